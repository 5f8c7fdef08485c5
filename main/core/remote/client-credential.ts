import { ConfigError } from '../config/load-config.ts';
import { MANAGED_IDENTITY, REMOTE_SETTINGS } from './remote-settings.ts';
import { SecretValue } from './secret-value.ts';
import type { RawSetting, SettingReader } from './setting-reader.ts';

/** The environment variable Kubernetes workload identity (and others) put the token file in. */
export const AZURE_FEDERATED_TOKEN_FILE = 'AZURE_FEDERATED_TOKEN_FILE';

/**
 * How the server proves it is the app to Entra. `setting` names where it was configured, so a
 * later message (an unreadable file, an expired certificate) can name it too.
 */
export type ClientCredential =
  | { kind: 'certificate'; file: string; setting: string }
  | { kind: 'assertion-file'; file: string; setting: string }
  | { kind: 'managed-identity'; userAssignedClientId?: string; setting: string }
  | { kind: 'secret'; secret: SecretValue<string>; setting: string };

const CHOICES = [
  'clientCertFile',
  'clientAssertionFile',
  'clientAssertion',
  'clientSecret',
] as const;

const NONE_FIX =
  'set exactly one of VALET_CLIENT_CERT_FILE (one PEM with the certificate and its key), VALET_CLIENT_ASSERTION_FILE (a federated token file), VALET_CLIENT_ASSERTION=managed-identity, or VALET_CLIENT_SECRET (discouraged)';

/** The warning printed when a client secret is in use. */
export const CLIENT_SECRET_WARNING =
  'Microsoft discourages client secrets and recommends a certificate (VALET_CLIENT_CERT_FILE) or a federated credential (VALET_CLIENT_ASSERTION_FILE, or VALET_CLIENT_ASSERTION=managed-identity) instead';

/**
 * Picks the one credential that is configured. None, or more than one, is a ConfigError naming
 * the ones found (never their values). AZURE_FEDERATED_TOKEN_FILE stands in for
 * VALET_CLIENT_ASSERTION_FILE only when nothing else is set.
 */
export async function readClientCredential(
  reader: SettingReader,
  env: NodeJS.ProcessEnv,
  warnings: string[],
): Promise<ClientCredential> {
  const found = CHOICES.flatMap((name) => {
    const raw = reader.raw(name);
    reader.sources[name] = raw ? raw.source : 'default';
    return raw ? [{ name, raw }] : [];
  });
  const miRaw = reader.raw('miClientId');
  reader.sources.miClientId = miRaw ? miRaw.source : 'default';

  if (found.length > 1) {
    const names = found.map((f) => f.raw.where);
    throw new ConfigError(
      'credential',
      `${names.length} client credentials are set (${names.join(', ')}): keep exactly one of them and unset the others`,
    );
  }
  const federatedFile = env[AZURE_FEDERATED_TOKEN_FILE]?.trim();
  const chosen: { name: (typeof CHOICES)[number]; raw: RawSetting } | undefined =
    found[0] ??
    (federatedFile
      ? {
          name: 'clientAssertionFile',
          raw: { value: federatedFile, source: 'env', where: AZURE_FEDERATED_TOKEN_FILE },
        }
      : undefined);
  if (!chosen) throw new ConfigError('credential', `No client credential is set: ${NONE_FIX}`);
  if (chosen.raw.where === AZURE_FEDERATED_TOKEN_FILE) reader.sources.clientAssertionFile = 'env';

  if (miRaw && chosen.name !== 'clientAssertion')
    throw reader.error(
      'miClientId',
      miRaw,
      `is set but VALET_CLIENT_ASSERTION is not ${MANAGED_IDENTITY}`,
      `set VALET_CLIENT_ASSERTION=${MANAGED_IDENTITY} to sign in as the managed identity, or unset ${REMOTE_SETTINGS.miClientId.env}`,
    );

  const { name, raw } = chosen;
  const setting = raw.where;
  switch (name) {
    case 'clientCertFile':
      return {
        kind: 'certificate',
        file: await reader.readableFile(name, raw, reader.parse(name, raw)),
        setting,
      };
    case 'clientAssertionFile':
      return {
        kind: 'assertion-file',
        file: await reader.readableFile(name, raw, reader.parse(name, raw)),
        setting,
      };
    case 'clientAssertion': {
      reader.parse(name, raw);
      const userAssignedClientId = miRaw ? reader.parse('miClientId', miRaw) : undefined;
      return {
        kind: 'managed-identity',
        setting,
        ...(userAssignedClientId && { userAssignedClientId }),
      };
    }
    case 'clientSecret':
      warnings.push(`${setting} is set: ${CLIENT_SECRET_WARNING}`);
      return { kind: 'secret', secret: new SecretValue(reader.parse(name, raw)), setting };
  }
}
