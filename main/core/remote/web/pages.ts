import type { Response } from 'express';
import { PAGE_STYLE } from '../server/guards.ts';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Sends a small HTML page; `body` is HTML the caller built with escapeHtml. */
export function sendPage(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)} · MCP Valet</title><style>${PAGE_STYLE}</style><main><h1>${escapeHtml(title)}</h1>${body}</main></html>`,
    );
}

/** A page that says why something was refused or failed, and what to do. */
export function sendProblem(
  res: Response,
  status: number,
  title: string,
  message: string,
  next?: { href: string; label: string },
): void {
  sendPage(
    res,
    status,
    title,
    `<p role="alert">${escapeHtml(message)}</p>${next ? `<p><a href="${escapeHtml(next.href)}">${escapeHtml(next.label)}</a></p>` : ''}`,
  );
}
