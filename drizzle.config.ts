import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the schema (the source of truth) and committed under drizzle/.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/*.ts',
  out: './drizzle',
});
