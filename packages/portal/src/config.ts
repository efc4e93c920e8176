import type { PortalConfig } from "./context.js";

/**
 * Reads the portal's settings from the environment (docs/settings.md). The hub URL and the secret
 * the hub issued are required when the portal runs on its own; the all-in-one start fills them.
 */
export function loadPortalConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const port = Number(env.OPENLINES_PORTAL_PORT ?? env.PORT ?? 8081);
  const required = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is required to run the portal on its own (see docs/settings.md).`);
    return v;
  };
  return {
    portalId: env.OPENLINES_PORTAL_ID ?? "local",
    publicUrl: (env.OPENLINES_PORTAL_PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, ""),
    databaseUrl: env.OPENLINES_PORTAL_DATABASE_URL ?? "sqlite:./data/portal.db",
    hubUrl: required("OPENLINES_HUB_URL").replace(/\/+$/, ""),
    hubSecret: required("OPENLINES_HUB_SECRET"),
    filesDir: env.OPENLINES_PORTAL_FILES_DIR ?? "./data/files",
    allowPrivateAddresses: env.OPENLINES_PORTAL_ALLOW_PRIVATE_ADDRESSES === "true",
  };
}
