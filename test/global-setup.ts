export default function setup() {
  if (!process.env.TEST_DATABASE_URL) {
    console.log('real PostgreSQL run skipped: TEST_DATABASE_URL is not set (database suites ran on PGlite only)');
  } else {
    console.log('database suites run on PGlite and on the PostgreSQL server at TEST_DATABASE_URL');
  }
}
