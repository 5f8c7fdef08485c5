import { htmlToText } from '../../core/mcp/tools/html-text.ts';
import { escapeHtml } from './mail-items.ts';
import type { ItemBody } from './model.ts';

const PREFERENCE = 'outlook.body-content-type';

/** The body type a request asks for with `Prefer: outlook.body-content-type="text"`, if Graph knows it. */
export function preferredBodyType(
  prefer: ReadonlyMap<string, string>,
): ItemBody['contentType'] | undefined {
  const type = prefer.get(PREFERENCE)?.toLowerCase();
  return type === 'text' || type === 'html' ? type : undefined;
}

/** The header that tells the client its preference was applied. */
export function bodyTypeApplied(type: ItemBody['contentType']): Record<string, string> {
  return { 'preference-applied': `${PREFERENCE}="${type}"` };
}

/**
 * A body converted to `type`, as Graph converts it on the server: HTML read as text (with the
 * same reading MCP Valet gives HTML it receives), text escaped into an HTML page.
 */
export function bodyAs(body: ItemBody, type: ItemBody['contentType'] | undefined): ItemBody {
  if (type === undefined || body.contentType === type) return body;
  if (type === 'text') return { contentType: 'text', content: htmlToText(body.content) };
  const lines = escapeHtml(body.content).replace(/\r?\n/g, '<br>');
  return { contentType: 'html', content: `<html><body><div>${lines}</div></body></html>` };
}
