// The wire check (wirecheck.mjs) itself: it passes on proto/ as it is, and
// it reports exactly the differences planted in an altered copy.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { wireCheck } from "../wirecheck.mjs";
import { served } from "../lib/descriptors.mjs";

const protoDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "proto");

// compile writes the FileDescriptorSet of every .proto under dir (with
// imports, as scripts/protogen --descriptors does) and returns its path.
function compile(dir, out) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".proto")) files.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  files.sort();
  execFileSync("protoc", ["-I", dir, "-I", "/usr/include", "--include_imports", `--descriptor_set_out=${out}`, ...files], { stdio: "inherit" });
  return out;
}

// edit replaces from with to in file under dir, which must hold from once.
function edit(dir, file, from, to) {
  const p = join(dir, file);
  const text = readFileSync(p, "utf8");
  assert.equal(text.split(from).length, 2, `${file} holds ${JSON.stringify(from)} once`);
  writeFileSync(p, text.replace(from, to));
}

describe("wire check", () => {
  let tmp;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "wirecheck-test-"));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it("finds no difference between proto/ and @zitadel/proto", async () => {
    const { problems, count } = await wireCheck(compile(protoDir, join(tmp, "ours.binpb")));
    assert.deepEqual(problems, []);
    // Every method served.json lists was compared, with its messages.
    assert.equal(count.methods, served().length);
    assert.ok(count.messages > 100 && count.fields > 500 && count.values > 50, JSON.stringify(count));
  });

  it("reports a renumbered field, a renamed enum value and an unlisted method", async () => {
    const copy = join(tmp, "proto");
    cpSync(protoDir, copy, { recursive: true });
    const idp = join("zitadel", "idp", "v2", "idp.proto");
    edit(copy, idp, "  string name = 4;\n  IDPType type = 5;", "  string name = 14;\n  IDPType type = 5;");
    edit(copy, idp, "IDP_STATE_ACTIVE = 1;", "IDP_STATE_ENABLED = 1;");
    edit(copy, join("zitadel", "idp", "v2", "idp_service.proto"),
      "rpc GetIDPByID(GetIDPByIDRequest) returns (GetIDPByIDResponse);",
      "rpc GetIDPByID(GetIDPByIDRequest) returns (GetIDPByIDResponse);\n  rpc GetIDPByName(GetIDPByIDRequest) returns (GetIDPByIDResponse);");

    const { problems } = await wireCheck(compile(copy, join(tmp, "altered.binpb")));
    assert.deepEqual([...problems].sort(), [
      "/zitadel.idp.v2.IdentityProviderService/GetIDPByName: served by ours but not listed in served.json",
      "enum zitadel.idp.v2.IDPState: value 1 is IDP_STATE_ACTIVE in ZITADEL's, IDP_STATE_ENABLED in ours",
      "zitadel.idp.v2.IDP.name = 14: not in ZITADEL's",
      "zitadel.idp.v2.IDP.name = 4: missing in ours",
    ]);
  });
});
