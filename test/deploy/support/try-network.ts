import { request } from 'node:http';

/** Tries one HTTP request; used to prove that support/no-network.ts blocks it. */
await new Promise<void>((resolve, reject) => {
  const req = request('http://127.0.0.1:9/', () => resolve());
  req.on('error', reject);
  req.end();
});
