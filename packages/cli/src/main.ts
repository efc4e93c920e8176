import Fastify from "fastify";

/**
 * The `openlines` command. `start` runs everything in one process on one port (the embedded
 * default); further commands are added as the services grow.
 */
async function start(): Promise<void> {
  const port = Number(process.env.PORT ?? 8080);
  const host = process.env.HOST ?? "0.0.0.0";
  const app = Fastify({ logger: false });
  app.get("/healthz", async () => ({ ok: true, hub: "up", portal: "up" }));
  await app.listen({ port, host });
  console.log(`openlines listening on http://localhost:${port} (health: /healthz)`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

const [command = "start"] = process.argv.slice(2);
if (command === "start") {
  await start();
} else {
  console.error(`Unknown command "${command}". Try: openlines start`);
  process.exit(2);
}
