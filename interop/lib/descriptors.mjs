// The two schemas the wire check compares: ZITADEL's, as embedded in the
// pinned @zitadel/proto package, and ours, as protoc compiles proto/.
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createFileRegistry, createRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const here = dirname(fileURLToPath(import.meta.url));

// served lists the method paths idledger serves (served.json), without the
// ones marked repo-only: those exist in ZITADEL's repository but in no npm
// package, so they have no published descriptor to compare with.
//
// standard lists the methods of standard services (grpc.health.v1), which
// are no part of ZITADEL's schema and are not compared.
export function served({ repoOnly = false, standard = false } = {}) {
  const list = JSON.parse(readFileSync(join(here, "..", "served.json"), "utf8"));
  if (repoOnly) return list.repoOnly;
  if (standard) return list.standard;
  const idp = [];
  for (const svc of ["zitadel.admin.v1.AdminService", "zitadel.management.v1.ManagementService"])
    for (const k of list.idpKinds) idp.push(`/${svc}/Add${k}Provider`, `/${svc}/Update${k}Provider`);
  return [...list.methods, ...idp];
}

// zitadelRegistry loads every file descriptor of @zitadel/proto.
export async function zitadelRegistry() {
  const root = join(here, "..", "node_modules", "@zitadel", "proto", "es");
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith("_pb.js")) files.push(p);
    }
  };
  walk(root);
  const descs = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(f).href);
    for (const [k, v] of Object.entries(mod)) if (k.startsWith("file_") && v?.kind === "file") descs.push(v);
  }
  return createRegistry(...descs);
}

// ourRegistry reads the FileDescriptorSet that protoc wrote for proto/
// (with --include_imports).
export function ourRegistry(setPath) {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(setPath));
  return createFileRegistry(set);
}
