// The credential providers below ship inside the pinned @aws-sdk/client-chime-sdk-voice (they are links
// of its default chain); they are not dependencies of the construct library.
// eslint-disable-next-line import/no-extraneous-dependencies
import { fromEnv, type FromEnvInit } from '@aws-sdk/credential-provider-env';
// eslint-disable-next-line import/no-extraneous-dependencies
import { fromHttp, type FromHttpOptions } from '@aws-sdk/credential-provider-http';
// eslint-disable-next-line import/no-extraneous-dependencies
import { chain, CredentialsProviderError, memoize } from '@smithy/core/config';
// eslint-disable-next-line import/no-extraneous-dependencies
import { ENV_CMDS_FULL_URI, ENV_CMDS_RELATIVE_URI, fromContainerMetadata, fromInstanceMetadata, type RemoteProviderInit } from '@smithy/credential-provider-imds';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The credential chain of the bundled handlers: the SDK's default Node.js chain without the links that
 * read ~/.aws files or other processes (SSO, shared ini/profiles, credential_process, web identity token
 * file, console login), none of which a Lambda function has. What is left, in the SDK's order:
 * - environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): how Lambda hands
 *   the execution role's credentials to the function;
 * - the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI), else the EC2
 *   instance metadata service unless AWS_EC2_METADATA_DISABLED: the SDK's remote provider, unchanged.
 * Credentials with an expiration are refreshed five minutes before it, as the SDK's chain does.
 *
 * The bundle script (projenrc/bundle.js) aliases `@aws-sdk/credential-provider-node` to this module, so the
 * client's default `credentialDefaultProvider` (and lambda/cloudformation.ts) use this chain. The SDK's
 * own chain loads its other links with `import()`, which made esbuild wrap nearly every SDK module in a
 * lazy initialiser and keep ~100 KB of nested STS/SSO clients: the handler's module initialisation took
 * about a third longer. Outside the bundle (unit tests) the SDK's own chain is used.
 */
export function defaultProvider(init: FromEnvInit & FromHttpOptions & RemoteProviderInit = {}): AwsCredentialIdentityProvider {
  const remote: AwsCredentialIdentityProvider = async () => {
    if (process.env[ENV_CMDS_RELATIVE_URI] || process.env[ENV_CMDS_FULL_URI]) {
      return chain(fromHttp(init), fromContainerMetadata(init))();
    }
    const imdsDisabled = process.env.AWS_EC2_METADATA_DISABLED;
    if (imdsDisabled && imdsDisabled !== 'false') {
      throw new CredentialsProviderError('EC2 Instance Metadata Service access disabled', { logger: init.logger });
    }
    return fromInstanceMetadata(init)();
  };
  const none = async (): Promise<AwsCredentialIdentity> => {
    throw new CredentialsProviderError('Could not load credentials from any providers', { logger: init.logger, tryNextLink: false });
  };
  return memoize(
    chain(fromEnv(init), remote, none),
    (credentials) => credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000,
    (credentials) => credentials.expiration !== undefined,
  );
}
