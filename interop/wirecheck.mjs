// wirecheck.mjs compares idledger's .proto subset with ZITADEL's published
// schema (the descriptors embedded in the pinned @zitadel/proto): for every
// method that served.json lists, the method path, its request and response
// types, and transitively every message and enum they reach: field names,
// numbers, types, labels (repeated, optional, map), oneof membership and
// enum values. Any difference fails. It also fails when our services hold a
// method that served.json does not list.
//
// Usage (from interop/, after npm ci): node wirecheck.mjs [DESCRIPTOR_SET]
// Without an argument it compiles proto/ with scripts/protogen.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { zitadelRegistry, ourRegistry, served } from "./lib/descriptors.mjs";

export async function wireCheck(setPath) {
  const theirs = await zitadelRegistry();
  const ours = ourRegistry(setPath);
  const problems = [];
  const seen = new Set();
  const count = { methods: 0, messages: 0, enums: 0, fields: 0, values: 0 };

  const fieldType = (f) => {
    switch (f.fieldKind) {
      case "scalar": return `scalar:${f.scalar}`;
      case "enum": return `enum:${f.enum.typeName}`;
      case "message": return `message:${f.message.typeName}`;
      case "list": return `repeated ${f.listKind === "scalar" ? "scalar:" + f.scalar : f.listKind + ":" + (f.message ?? f.enum).typeName}`;
      case "map": return `map<${f.mapKey}, ${f.mapKind === "scalar" ? "scalar:" + f.scalar : f.mapKind + ":" + (f.message ?? f.enum).typeName}>`;
    }
  };
  const label = (f) => (f.proto.proto3Optional ? "optional" : f.oneof ? `oneof ${f.oneof.name}` : "");

  function compareEnum(name) {
    if (seen.has(name)) return;
    seen.add(name);
    const a = theirs.getEnum(name), b = ours.getEnum(name);
    if (!b) return problems.push(`enum ${name}: missing in ours`);
    count.enums++;
    const av = new Map(a.values.map((v) => [v.number, v.name]));
    const bv = new Map(b.values.map((v) => [v.number, v.name]));
    for (const [n, v] of av) { count.values++; if (bv.get(n) !== v) problems.push(`enum ${name}: value ${n} is ${v} in ZITADEL's, ${bv.get(n) ?? "absent"} in ours`); }
    for (const [n, v] of bv) if (!av.has(n)) problems.push(`enum ${name}: value ${v} = ${n} is not in ZITADEL's`);
  }
  function compareMessage(name) {
    if (seen.has(name) || name.startsWith("google.protobuf.")) return;
    seen.add(name);
    const a = theirs.getMessage(name), b = ours.getMessage(name);
    if (!b) return problems.push(`message ${name}: missing in ours`);
    count.messages++;
    const bf = new Map(b.fields.map((f) => [f.number, f]));
    for (const f of a.fields) {
      count.fields++;
      const g = bf.get(f.number);
      const where = `${name}.${f.name} = ${f.number}`;
      if (!g) { problems.push(`${where}: missing in ours`); continue; }
      if (g.name !== f.name) problems.push(`${where}: named ${g.name} in ours`);
      if (fieldType(g) !== fieldType(f)) problems.push(`${where}: type ${fieldType(f)} in ZITADEL's, ${fieldType(g)} in ours`);
      if (label(g) !== label(f)) problems.push(`${where}: "${label(f)}" in ZITADEL's, "${label(g)}" in ours`);
      if (g.jsonName !== f.jsonName) problems.push(`${where}: JSON name ${f.jsonName} in ZITADEL's, ${g.jsonName} in ours`);
      if (f.message) compareMessage(f.message.typeName);
      if (f.enum) compareEnum(f.enum.typeName);
    }
    const af = new Set(a.fields.map((f) => f.number));
    for (const g of b.fields) if (!af.has(g.number)) problems.push(`${name}.${g.name} = ${g.number}: not in ZITADEL's`);
  }

  const paths = served();
  for (const path of paths) {
    const [, svc, method] = path.split("/");
    const a = theirs.getService(svc)?.methods.find((m) => m.name === method);
    if (!a) { problems.push(`${path}: not a method of ZITADEL's`); continue; }
    const b = ours.getService(svc)?.methods.find((m) => m.name === method);
    if (!b) { problems.push(`${path}: missing in ours`); continue; }
    count.methods++;
    if (a.methodKind !== b.methodKind) problems.push(`${path}: ${a.methodKind} in ZITADEL's, ${b.methodKind} in ours`);
    for (const side of ["input", "output"]) {
      if (a[side].typeName !== b[side].typeName) problems.push(`${path}: ${side} ${a[side].typeName} in ZITADEL's, ${b[side].typeName} in ours`);
      compareMessage(a[side].typeName);
    }
  }
  compareMessage("zitadel.v1.ErrorDetail");
  // Our services hold exactly the listed methods (and the repo-only ones).
  const listed = new Set([...paths, ...served({ repoOnly: true }), ...served({ standard: true })]);
  for (const s of ours.getServices ? ours.getServices() : iterServices(ours))
    for (const m of s.methods) if (!listed.has(`/${s.typeName}/${m.name}`)) problems.push(`/${s.typeName}/${m.name}: served by ours but not listed in served.json`);
  for (const p of served({ repoOnly: true })) {
    const [, svc, method] = p.split("/");
    if (!ours.getService(svc)?.methods.find((m) => m.name === method)) problems.push(`${p}: repo-only method missing in ours`);
  }
  return { problems, count };
}

function* iterServices(reg) {
  for (const d of reg) if (d.kind === "service") yield d;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let set = process.argv[2], tmp;
  if (!set) {
    tmp = mkdtempSync(join(tmpdir(), "wirecheck-"));
    set = join(tmp, "ours.binpb");
    execFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "protogen"), ["--descriptors", set], { stdio: "inherit" });
  }
  try {
    const { problems, count } = await wireCheck(set);
    for (const p of problems) console.error("DIFF " + p);
    console.log(`wire check: ${count.methods} methods, ${count.messages} messages, ${count.fields} fields, ${count.enums} enums, ${count.values} enum values compared with @zitadel/proto; ${problems.length} differences`);
    process.exitCode = problems.length ? 1 : 0;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
