/**
 * The credential chain the bundle task puts in place of the SDK's default Node.js chain
 * (lambda/credentials.ts): what a Lambda function offers must still work, in the SDK's order.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultProvider } from '../../lambda/shared/credentials';

const VARIABLES = [
  'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_EC2_METADATA_DISABLED',
];
let saved: Record<string, string | undefined>;
beforeEach(() => {
  saved = Object.fromEntries(VARIABLES.map((v) => [v, process.env[v]]));
  VARIABLES.forEach((v) => delete process.env[v]);
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]; else process.env[name] = value;
  }
});

test('environment variables come first: how Lambda hands the function its role credentials', async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
  await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'AKIDENV', secretAccessKey: 'secret', sessionToken: 'token' });
});

test('without them, the container credentials endpoint is asked, with its authorization token', async () => {
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ AccessKeyId: 'AKIDCONTAINER', SecretAccessKey: 'secret', Token: 'token', Expiration: new Date(Date.now() + 3_600_000).toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = 'let-me-in';
    await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'AKIDCONTAINER', sessionToken: 'token' });
    expect(seen).toEqual(['let-me-in']);
  } finally {
    server.close();
  }
});

test('with nothing to read and instance metadata disabled, it fails saying so', async () => {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  await expect(defaultProvider()()).rejects.toThrow(/EC2 Instance Metadata Service access disabled|Could not load credentials/);
});
