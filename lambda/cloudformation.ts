import { createHash, createHmac } from 'node:crypto';
// Both ship inside the pinned @aws-sdk/client-chime-sdk-voice (its credential chain and signer), so the
// bundle carries them already; they are not dependencies of the construct library.
// eslint-disable-next-line import/no-extraneous-dependencies
import { defaultProvider } from '@aws-sdk/credential-provider-node';
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The one CloudFormation call the drift check makes, `GetTemplate` on its own stack, signed with SigV4 by
 * hand: the SDK's CloudFormation client would add a second client (and ~100 KB) to the bundled asset for
 * one read. `AWS_ENDPOINT_URL_CLOUDFORMATION` redirects it, like every SDK client (tests use a local stub).
 */
export async function getTemplate(stackId: string, env: Record<string, string | undefined> = process.env): Promise<Record<string, unknown>> {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('AWS_REGION is not set');
  const endpoint = new URL(env.AWS_ENDPOINT_URL_CLOUDFORMATION ?? env.AWS_ENDPOINT_URL ?? `https://cloudformation.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`);
  const body = new URLSearchParams({ Action: 'GetTemplate', Version: '2010-05-15', StackName: stackId, TemplateStage: 'Original' }).toString();
  const signer = new SignatureV4({ credentials: defaultProvider(), region, service: 'cloudformation', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname || '/',
    headers: { 'host': endpoint.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body,
  });
  const response = await fetch(endpoint, { method: 'POST', headers: signed.headers, body });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`cloudformation:GetTemplate on ${stackId} answered HTTP ${response.status}: ${xmlValue(text, 'Code') ?? ''} ${xmlValue(text, 'Message') ?? text.slice(0, 300)}`);
  }
  const template = xmlValue(text, 'TemplateBody');
  if (template === undefined) throw new Error(`cloudformation:GetTemplate on ${stackId} returned no TemplateBody`);
  return JSON.parse(template) as Record<string, unknown>;
}

function xmlValue(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`).exec(xml);
  return match ? decodeXml(match[1]) : undefined;
}

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|apos|lt|gt|amp);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' } as Record<string, string>)[entity];
  });
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The hash interface SignatureV4 expects, on node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
