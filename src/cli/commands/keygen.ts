// datawarden keygen: an Ed25519 key pair for signing dataset manifests.
import { writeKeyPair } from '../../provenance/keys.js';
import { EXIT, stringOption, UsageError, type Command } from '../command.js';

export const keygenCommand: Command = {
  name: 'keygen',
  summary: 'Create an Ed25519 key pair for signing dataset manifests',
  usage: 'keygen --name SIGNER [--out DIR] [--force]',
  positionals: [0, 0],
  options: {
    name: { type: 'string', help: 'signer name; writes <name>.key and <name>.pub' },
    out: { type: 'string', help: 'directory for the key files (default: the current directory)', default: '.' },
    force: { type: 'boolean', help: 'replace existing key files of that name' },
  },
  details: `The private key <name>.key (PKCS8 PEM) is written with mode 0600; keep it secret and give
--key to 'manifest create'. Hand the public key <name>.pub (SPKI PEM) to whoever verifies: list it
(or its directory) in the contract's provenance.trustedKeys. A key is identified by the sha256 of
its public key, printed here as the key id.`,
  async run(_positionals, values, { log, stdout }) {
    const name = stringOption(values, 'name');
    if (!name) throw new UsageError('--name is required');
    const directory = stringOption(values, 'out') ?? '.';
    const files = await writeKeyPair(directory, name, { force: values.force === true });
    // Paths and the key id only: the private key's content never reaches a log or stdout.
    log.info({ signer: name, publicKey: files.publicKeyPath, keyId: files.keyId }, 'key pair written');
    stdout.write(`private key: ${files.privateKeyPath} (mode 0600, keep it secret)\npublic key:  ${files.publicKeyPath}\nkey id:      ${files.keyId}\n`);
    return EXIT.pass;
  },
};
