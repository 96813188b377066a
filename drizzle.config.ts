/**
 * drizzle-kit configuration: `npm run db:generate` turns src/store/schema.ts
 * into plain-SQL migrations in migrations/, which both drizzle's libSQL
 * migrator and `wrangler d1 migrations apply` can run.
 */
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/schema.ts",
  out: "./migrations",
});
