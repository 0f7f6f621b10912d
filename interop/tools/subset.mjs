// subset.mjs wrote the first version of idledger's .proto subset (proto/)
// from the wire schema that @zitadel/proto embeds: for the methods listed in
// ../served.json, the closure of their messages and enums, with ZITADEL's
// file paths, packages, names, numbers, types, labels and oneofs, and none of
// its options or comments. The files under proto/ are ours and are edited by
// hand since (for example the newer AddOrganizationRequest.organization_id
// and the repo-only zitadel.user.v3alpha files); wirecheck.mjs keeps them
// wire-identical with ZITADEL's descriptors.
//
// Usage: node tools/subset.mjs ../proto   (from interop/; it overwrites)
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { zitadelRegistry, served } from "../lib/descriptors.mjs";

const out = process.argv[2];
if (!out) throw new Error("usage: node tools/subset.mjs OUTDIR");
const reg = await zitadelRegistry();
const WKT = /^google\.protobuf\./;

// Closure: every message and enum the served methods reach. A nested type
// pulls in its parent, which is written whole.
const need = new Map(); // typeName -> desc
function addMsg(m) {
  if (need.has(m.typeName)) return;
  need.set(m.typeName, m);
  if (m.parent) addMsg(m.parent);
  for (const n of m.nestedMessages ?? []) if (!n.proto.options?.mapEntry) addMsg(n);
  for (const e of m.nestedEnums ?? []) need.set(e.typeName, e);
  for (const f of m.fields) {
    if (f.fieldKind === "message" && !WKT.test(f.message.typeName)) addMsg(f.message);
    if (f.fieldKind === "enum") addEnum(f.enum);
    if (f.fieldKind === "list") {
      if (f.listKind === "message" && !WKT.test(f.message.typeName)) addMsg(f.message);
      if (f.listKind === "enum") addEnum(f.enum);
    }
    if (f.fieldKind === "map") {
      if (f.mapKind === "message" && !WKT.test(f.message.typeName)) addMsg(f.message);
      if (f.mapKind === "enum") addEnum(f.enum);
    }
  }
}
function addEnum(e) {
  if (need.has(e.typeName)) return;
  need.set(e.typeName, e);
  if (e.parent) addMsg(e.parent);
}
const services = new Map(); // service typeName -> {desc, methods}
for (const path of served()) {
  const [, svc, method] = path.split("/");
  const s = reg.getService(svc);
  if (!s) throw new Error(`no service ${svc}`);
  const m = s.methods.find((x) => x.name === method);
  if (!m) throw new Error(`no method ${path}`);
  if (!services.has(svc)) services.set(svc, { desc: s, methods: [] });
  services.get(svc).methods.push(m);
  addMsg(m.input);
  addMsg(m.output);
}
// The error details ZITADEL attaches to every error status.
addMsg(reg.getMessage("zitadel.v1.ErrorDetail"));

// Files: ZITADEL's paths. Top-level types only; nested ones are written
// inside their parents.
const files = new Map(); // file name -> {pkg, types:[], services:[], imports:Set}
const fileOf = (d) => { while (d.parent) d = d.parent; return d.file; };
function entry(file) {
  if (!files.has(file.proto.name)) files.set(file.proto.name, { pkg: file.proto.package, types: [], services: [], imports: new Set() });
  return files.get(file.proto.name);
}
for (const d of need.values()) if (!d.parent) entry(fileOf(d)).types.push(d);
for (const { desc, methods } of services.values()) entry(desc.file).services.push({ desc, methods });

const scalar = { 1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
  9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64" };
function typeRef(f, from) {
  const d = f.fieldKind === "map" ? null : (f.message ?? f.enum);
  if (!d) return scalar[f.proto.type];
  return ref(from, d);
}
function mapValue(f, from) {
  if (f.mapKind === "scalar") return scalar[f.scalar === undefined ? 9 : f.scalar];
  return ref(from, f.message ?? f.enum);
}
// ref names d as written in file from: relative to the package when it is
// the same package, else fully qualified.
function ref(from, d) {
  use(from, d);
  const pkg = files.get(from).pkg + ".";
  return d.typeName.startsWith(pkg) ? d.typeName.slice(pkg.length) : d.typeName;
}
function use(from, d) {
  const file = WKT.test(d.typeName) ? d.file.proto.name : fileOf(d).proto.name;
  if (file !== from) files.get(from).imports.add(file);
}
function goPackage(pkg) {
  const seg = pkg.split(".");
  const name = seg.length === 2 ? "zitadelv1" : seg.slice(1).join("");
  return `github.com/idledger/idledger/gen/${seg.join("/")};${name}`;
}

function writeEnum(e, ind) {
  let s = `${ind}enum ${e.name} {\n`;
  for (const v of e.values) s += `${ind}  ${v.name} = ${v.number};\n`;
  return s + `${ind}}\n`;
}
function writeMsg(m, file, ind) {
  let s = `${ind}message ${m.name} {\n`;
  for (const n of m.nestedMessages ?? []) if (!n.proto.options?.mapEntry) s += writeMsg(n, file, ind + "  ");
  for (const e of m.nestedEnums ?? []) s += writeEnum(e, ind + "  ");
  const done = new Set();
  for (const f of m.fields) {
    if (done.has(f)) continue;
    const oneof = f.oneof && !f.proto.proto3Optional ? f.oneof : null;
    if (oneof) {
      s += `${ind}  oneof ${oneof.name} {\n`;
      for (const g of oneof.fields) { s += `${ind}    ${field(g, file)}\n`; done.add(g); }
      s += `${ind}  }\n`;
    } else s += `${ind}  ${field(f, file)}\n`;
  }
  return s + `${ind}}\n`;
}
function field(f, file) {
  if (f.fieldKind === "map") {
    return `map<${scalar[f.mapKey]}, ${mapValue(f, file)}> ${f.name} = ${f.number};`;
  }
  const label = f.fieldKind === "list" ? "repeated " : f.proto.proto3Optional ? "optional " : "";
  const t = f.fieldKind === "list" ? (f.listKind === "scalar" ? scalar[f.scalar] : ref(file, f.message ?? f.enum)) : typeRef(f, file);
  return `${label}${t} ${f.name} = ${f.number};`;
}

for (const [name, fl] of files) {
  let body = "";
  for (const { desc, methods } of fl.services) {
    body += `// ${desc.name} as idledger serves it: only the methods listed here.\nservice ${desc.name} {\n`;
    for (const m of methods) body += `  rpc ${m.name}(${ref(name, m.input)}) returns (${ref(name, m.output)});\n`;
    body += "}\n\n";
  }
  const order = (t) => { const f = t.file; return t.kind === "enum" ? 10000 + f.enums.indexOf(t) : f.messages.indexOf(t); };
  const types = fl.types.sort((a, b) => order(a) - order(b));
  for (const t of types) body += (t.kind === "enum" ? writeEnum(t, "") : writeMsg(t, name, "")) + "\n";
  let head = `// ${name}: the part of ZITADEL's ${fl.pkg} that idledger serves, written for\n`;
  head += `// wire compatibility (names, numbers, types) without ZITADEL's options.\nsyntax = "proto3";\n\npackage ${fl.pkg};\n\n`;
  for (const i of [...fl.imports].sort()) head += `import "${i}";\n`;
  if (fl.imports.size) head += "\n";
  head += `option go_package = "${goPackage(fl.pkg)}";\n\n`;
  const p = join(out, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, head + body.trimEnd() + "\n");
}
console.log(`${files.size} files, ${need.size} types, ${[...services.values()].reduce((n, s) => n + s.methods.length, 0)} methods`);
