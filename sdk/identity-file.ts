import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { DispatchError } from "./errors.ts";
import { createIdentity, identityFromKeys } from "./identity.ts";
import type { Identity } from "./types.ts";

/** Where the CLI keeps the seeker key unless told otherwise. */
export function defaultIdentityPath(): string {
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "dispatch", "identity.json");
}

/** Reads an identity file; refuses one that others can read, as ssh does with private keys. */
export async function loadIdentity(path: string): Promise<Identity> {
  let text: string;
  try {
    const info = await stat(path);
    if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
      throw new DispatchError(
        "invalid_request",
        `identity file ${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    text = await readFile(path, "utf8");
  } catch (err) {
    if (err instanceof DispatchError) throw err;
    throw new DispatchError("identity_required", `cannot read identity file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let data: { public_key?: unknown; secret_key?: unknown };
  try {
    data = JSON.parse(text);
  } catch {
    throw new DispatchError("invalid_request", `identity file ${path} is not JSON`);
  }
  if (typeof data.secret_key !== "string") {
    throw new DispatchError("invalid_request", `identity file ${path} has no secret_key`);
  }
  return identityFromKeys({
    secretKey: data.secret_key,
    ...(typeof data.public_key === "string" ? { publicKey: data.public_key } : {}),
  });
}

/** Loads the identity at `path`, creating it (mode 0600, directory 0700) on first use. */
export async function loadOrCreateIdentity(path: string): Promise<{ identity: Identity; created: boolean }> {
  try {
    return { identity: await loadIdentity(path), created: false };
  } catch (err) {
    const missing = err instanceof DispatchError && (err.cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
    if (!missing) throw err;
  }
  const identity = createIdentity();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const body = `${JSON.stringify({ public_key: identity.publicKey, secret_key: identity.secretKey }, null, 2)}\n`;
  // "wx": never overwrite a key another process created a moment ago.
  try {
    await writeFile(path, body, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return { identity: await loadIdentity(path), created: false };
    throw err;
  }
  // The umask may have widened nothing but could narrow; make the mode exact either way.
  await chmod(path, 0o600);
  return { identity, created: true };
}
