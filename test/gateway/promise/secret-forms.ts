/**
 * The forms a secret can take on its way out of a process, and a search for them in bytes: as
 * written, URL-encoded, hex, and base64 in the standard and the URL-safe alphabet. A secret inside
 * a longer base64 text is encoded differently depending on where it starts in the encoded bytes,
 * so each base64 form is searched at all three alignments, by the characters that depend on the
 * secret's bytes alone.
 */

/** One encoding of one secret, as the bytes to look for. */
export type SecretForm = {
  /** Such as `password base64 (offset 1)`. */
  readonly name: string;
  readonly needle: Buffer;
};

/** A text to search, with where it came from. */
export type Haystack = { readonly where: string; readonly bytes: Buffer };

/** The encodings, by name, used to plant a secret in the positive controls. */
export const ENCODINGS = ['plain', 'url', 'hex', 'base64', 'base64url'] as const;

/** One of ENCODINGS. */
export type Encoding = (typeof ENCODINGS)[number];

/** Every form of `secret`, each named after `label` and its encoding. */
export function secretForms(label: string, secret: string): SecretForm[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: SecretForm[] = [
    { name: `${label} plain`, needle: bytes },
    { name: `${label} url`, needle: Buffer.from(encodeURIComponent(secret)) },
    { name: `${label} hex`, needle: Buffer.from(bytes.toString('hex')) },
  ];
  for (const offset of [0, 1, 2]) {
    const standard = alignedBase64(bytes, offset);
    forms.push({ name: `${label} base64 (offset ${offset})`, needle: Buffer.from(standard) });
    forms.push({
      name: `${label} base64url (offset ${offset})`,
      needle: Buffer.from(standard.replaceAll('+', '-').replaceAll('/', '_')),
    });
  }
  return forms;
}

/**
 * The base64 characters of `bytes` when they start `offset` bytes into a 3-byte group: the first
 * group is left out when other bytes share it, and so is the last when it is not full.
 */
function alignedBase64(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const start = offset === 0 ? 0 : 4;
  const end = (offset + bytes.length) % 3 === 0 ? encoded.length : encoded.length - 4;
  return encoded.slice(start, end);
}

/** Every `where: form` pair of a form found in a haystack; empty when none is. */
export function findSecretForms(
  haystacks: readonly Haystack[],
  forms: readonly SecretForm[],
): string[] {
  const found: string[] = [];
  for (const haystack of haystacks) {
    for (const form of forms) {
      if (haystack.bytes.includes(form.needle)) found.push(`${haystack.where}: ${form.name}`);
    }
  }
  return found;
}

/**
 * `secret` encoded as `encoding` between random-looking neighbours, as a log line or a request
 * body would carry it, for the positive controls. Base64 encodes `offset` bytes before it too.
 */
export function plantSecret(secret: string, encoding: Encoding, offset = 0): Buffer {
  const around = (text: string) => Buffer.from(`{"note":"x${text}y","n":1}`);
  const bytes = Buffer.concat([
    Buffer.from('q'.repeat(offset)),
    Buffer.from(secret),
    Buffer.from('zz'),
  ]);
  switch (encoding) {
    case 'plain':
      return around(secret);
    case 'url':
      return around(`a=${encodeURIComponent(secret)}&b=2`);
    case 'hex':
      return around(Buffer.from(secret).toString('hex'));
    case 'base64':
      return around(bytes.toString('base64'));
    case 'base64url':
      return around(bytes.toString('base64url'));
  }
}
