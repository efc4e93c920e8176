import { startAllInOne } from "./all-in-one.js";
import { deadLettersCommand, portalsCommand, redriveCommand, reparseCommand } from "./commands/admin.js";
import { hubCommand, portalCommand } from "./commands/serve.js";
import { loadSettings } from "./config-file.js";

/**
 * The `openlines` command. `start` runs everything in one process on one port (the embedded
 * default). Other commands: see `openlines help`.
 */
async function start(settings: NodeJS.ProcessEnv): Promise<void> {
  const server = await startAllInOne({ env: settings });
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

const usage = `Usage: openlines <command> [--config settings.json]

  start                      hub, portal and workspace in one process (the default)
  hub                        the hub alone
  portal                     the portal alone
  portals add --id <id> --name <name> --url <portal base url>
  portals list | disable --id <id> | enable --id <id>
  dead-letters --portal <id> [--line <line id>] [--limit n]
  redrive --portal <id> [--line <line id>] [--ids a,b,c]
  reparse --line <hash or id> --since <date> [--until <date>] | --raw <stored webhook number>

Settings come from the environment or the --config file: see docs/settings.md.`;

const argv = process.argv.slice(2);
const [command = "start", ...rest] = argv;
try {
  const settings = loadSettings(argv) as NodeJS.ProcessEnv;
  switch (command) {
    case "start":
      await start(settings);
      break;
    case "hub":
      await hubCommand(settings);
      break;
    case "portal":
      await portalCommand(settings);
      break;
    case "portals":
      await portalsCommand(rest, settings);
      process.exit(0);
      break;
    case "dead-letters":
      await deadLettersCommand(rest, settings);
      process.exit(0);
      break;
    case "redrive":
      await redriveCommand(rest, settings);
      process.exit(0);
      break;
    case "reparse":
      await reparseCommand(rest, settings);
      process.exit(0);
      break;
    case "help":
    case "--help":
      console.log(usage);
      break;
    default:
      console.error(`Unknown command "${command}".\n\n${usage}`);
      process.exit(2);
  }
} catch (e) {
  console.error(`openlines ${command}: ${(e as Error).message}`);
  process.exit(1);
}
