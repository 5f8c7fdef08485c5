import { buildMessage, escapeHtml } from '../mail-items.ts';
import type { EmailAddress, GraphMessage, ItemBody } from '../model.ts';
import { fill, localPart } from './context.ts';
import type { SeedContext } from './context.ts';
import { MAIL_TEMPLATES } from './mail-templates.ts';
import { EXTERNAL_CONTACTS } from './pools.ts';
import { exchangeId } from './random.ts';
import { DAY, MINUTE } from './time.ts';

const INBOX_SIZE = 36;
const SENT_SIZE = 4;
const SPAN_MS = 28 * DAY;

function htmlBody(greeting: string, paragraphs: string[], signature: string): ItemBody {
  const html = [greeting, ...paragraphs].map((text) => `<p>${escapeHtml(text)}</p>`).join('');
  return {
    contentType: 'html',
    content: `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body>${html}<p>Best,<br>${escapeHtml(signature)}</p></body></html>`,
  };
}

function textBody(greeting: string, paragraphs: string[], signature: string): ItemBody {
  return {
    contentType: 'text',
    content: [greeting, ...paragraphs, `Best,\n${signature}`].join('\n\n'),
  };
}

/** The user's inbox and a few sent items, spread over the last four weeks, newest first. */
export function seedMessages(ctx: SeedContext): GraphMessage[] {
  const { random, user } = ctx;
  const firstName = user.name.split(' ')[0] ?? user.name;
  const templates = random.shuffle(MAIL_TEMPLATES);
  const messages: GraphMessage[] = [];
  for (let i = 0; i < INBOX_SIZE + SENT_SIZE; i += 1) {
    const sent = i >= INBOX_SIZE;
    const template = templates[i % templates.length];
    if (!template) break;
    const project = random.pick(ctx.projects);
    const text = (value: string): string => fill(value, project, ctx.quarter);
    const slot = sent ? (i - INBOX_SIZE) * 5 + 2 : i;
    const ageMs = 5 * MINUTE + (slot + random.next()) * (SPAN_MS / INBOX_SIZE);
    const sentMs = Math.floor((ctx.now - ageMs) / MINUTE) * MINUTE;
    const colleague = random.pick(ctx.colleagues);
    const external = random.pick(EXTERNAL_CONTACTS);
    const author: EmailAddress = template.external
      ? {
          name: external.name,
          address: `${localPart(external.name.split(' ')[0] ?? external.name)}@${external.domain}`,
        }
      : colleague.email;
    const from = sent ? ctx.self : author;
    const to = sent ? [colleague.email] : [ctx.self];
    const cc = !sent && random.chance(0.3) ? [random.pick(ctx.colleagues).email] : [];
    const greeting = `Hi ${sent ? colleague.given : firstName},`;
    const signature = from.name.split(' ')[0] ?? from.name;
    const body = random.chance(0.8)
      ? htmlBody(greeting, template.paragraphs.map(text), signature)
      : textBody(greeting, template.paragraphs.map(text), signature);
    const recent = ageMs < 3 * DAY;
    messages.push(
      buildMessage({
        id: exchangeId(user.id.toLowerCase(), 'message', String(i)),
        userId: user.id,
        folder: sent ? 'sentitems' : 'inbox',
        sentMs,
        subject: sent ? `Re: ${text(template.subject)}` : text(template.subject),
        body,
        from,
        to,
        cc: cc.filter((address) => address.address !== from.address),
        importance: template.importance ?? 'normal',
        // The newest message is always unread so "unread mail" is never empty.
        isRead: sent || (i > 0 && random.chance(recent ? 0.4 : 0.9)),
        hasAttachments: template.attachment ?? false,
        flagged: !sent && random.chance(0.1),
      }),
    );
  }
  return messages.sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
}
