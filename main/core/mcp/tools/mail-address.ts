import { z } from 'zod';

/** Graph's `recipient`: `{ emailAddress: { name, address } }`. */
export interface GraphRecipient {
  emailAddress?: { name?: string | null; address?: string | null } | null;
}

/** Output: a person as name and address. */
export const mailAddressOutput = z.object({
  name: z.string().nullable().describe('Display name, when known'),
  address: z.string().nullable().describe('SMTP address, when known'),
});
/** A person as name and address. */
export type MailAddress = z.infer<typeof mailAddressOutput>;

/** Name and address of a Graph recipient, or null when there is none. */
export function addressOf(recipient: GraphRecipient | null | undefined): MailAddress | null {
  const email = recipient?.emailAddress;
  if (!email) return null;
  return { name: email.name || null, address: email.address || null };
}

/** Name and address of each recipient in a list, at most `max`. */
export function addressesOf(list: GraphRecipient[] | null | undefined, max: number): MailAddress[] {
  return (list ?? [])
    .slice(0, max)
    .map(addressOf)
    .filter((a) => a !== null);
}

/** Graph recipients for a list of addresses. */
export function toRecipients(addresses: readonly string[] | undefined): GraphRecipient[] {
  return (addresses ?? []).map((address) => ({ emailAddress: { address } }));
}
