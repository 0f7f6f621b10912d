// The idledger the interop tests drive. With IDLEDGER_URL and
// IDLEDGER_TOKEN set (the Go wrapper test sets them), that server is used
// as it is. Otherwise the binary is built from this checkout and `serve`
// runs on a free loopback port with a fresh data dir; stop() ends it by its
// PID (SIGTERM: it drains and stops its embedded PostgreSQL), and so does
// this process's exit if a test run dies before stop().
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// startIdledger returns { url, token, stop, log }: the base URL, the admin's
// personal access token (IAM_OWNER, ORG_OWNER of the default org), an async
// stop (a no-op for an external server) and the server's output so far.
export async function startIdledger() {
  const { IDLEDGER_URL: url, IDLEDGER_TOKEN: token } = process.env;
  if (url && token) return { url: url.replace(/\/$/, ""), token, stop: async () => {}, log: () => "" };

  const tmp = mkdtempSync(join(tmpdir(), "idledger-interop-"));
  // As root, idledger runs PostgreSQL as the postgres user, which must be
  // able to reach the data dir.
  chmodSync(tmp, 0o711);
  const bin = join(tmp, "idledger");
  const dataDir = join(tmp, "data");
  try {
    execFileSync(goBinary(), ["build", "-o", bin, "./cmd/idledger"], { cwd: repo, stdio: ["ignore", "inherit", "inherit"] });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`go build ./cmd/idledger failed: ${err.message}`);
  }

  const child = spawn(bin, ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-format", "json"], {
    cwd: tmp,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (b) => (out += b));
  child.stderr.on("data", (b) => (out += b));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  let running = true;
  exited.then(() => (running = false));
  const killOnExit = () => running && process.kill(child.pid, "SIGTERM");
  process.on("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    if (running) {
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => running && process.kill(child.pid, "SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const base = await waitFor(60_000, () => {
      if (!running) throw new Error("idledger serve exited");
      return out.match(/idledger is serving on (\S+)/)?.[1];
    });
    await waitFor(60_000, async () => {
      if (!running) throw new Error("idledger serve exited");
      const r = await fetch(base + "/readyz").catch(() => null);
      return r?.status === 200;
    });
    const patFile = join(dataDir, "admin.pat");
    if (!existsSync(patFile)) throw new Error(`no admin token file at ${patFile}`);
    return { url: base, token: readFileSync(patFile, "utf8").trim(), stop, log: () => out };
  } catch (err) {
    await stop();
    throw new Error(`starting idledger: ${err.message}\n${out}`);
  }
}

function goBinary() {
  if (process.env.GO) return process.env.GO;
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && existsSync(join(dir, "go"))) return join(dir, "go");
  return "/usr/local/go/bin/go";
}

async function waitFor(ms, probe) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// rest returns a function calling idledger's REST API as token:
// rest(method, path, body, headers) resolves to the parsed JSON body and
// throws unless the status is 2xx.
export function restClient(url, token) {
  return async (method, path, body, headers = {}) => {
    const r = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status < 200 || r.status > 299) throw new Error(`REST ${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
}
