import react from "@vitejs/plugin-react";
import { defineConfig, type PluginOption } from "vite";

/**
 * The operators' workspace, built to `dist/` and served by the portal at `/` (the all-in-one
 * start). `npm run dev -w @openlines/web` proxies the API to a running server on port 8080.
 */
export default defineConfig({
  root: import.meta.dirname,
  // plugin-react is typed against the newer vite that vitest brings; the plugin supports both.
  plugins: [react() as unknown as PluginOption],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      "/api": { target: "http://localhost:8080", ws: true },
      "/files": "http://localhost:8080",
    },
  },
});
