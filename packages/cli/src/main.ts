import { startAllInOne } from "./all-in-one.js";

/**
 * The `openlines` command. `start` runs everything in one process on one port (the embedded
 * default). Other commands: see `openlines help`.
 */
async function start(): Promise<void> {
  const server = await startAllInOne();
  console.log(`openlines is running at ${server.url}  (health: ${server.url}/healthz)`);
  console.log(`  workspace: ${server.url}/   demo customer page: ${server.url}/demo`);
  if (server.admin) {
    console.log(
      `  first start: sign in as ${server.admin.email} with the one-time password ${server.admin.password}`,
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1); // a second Ctrl+C forces it
    stopping = true;
    console.log(`${signal}: finishing in-flight work; queued packets stay in the queue`);
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

const [command = "start"] = process.argv.slice(2);
if (command === "start") {
  await start();
} else {
  console.error(`Unknown command "${command}". Try: openlines start`);
  process.exit(2);
}
