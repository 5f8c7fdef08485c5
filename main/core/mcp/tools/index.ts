import type { ToolDefinition } from '../tool-definition.ts';
import { authStatus } from './auth-status.ts';
import { createEvent } from './create-event.ts';
import { getMessage } from './get-message.ts';
import { getUserDetails } from './get-user-details.ts';
import { listEvents } from './list-events.ts';
import { listMessages } from './list-messages.ts';
import { searchFiles } from './search-files.ts';
import { searchPeople } from './search-people.ts';
import { sendMail } from './send-mail.ts';

/** Every tool, in the order of DESIGN.md §3 (and TOOL_NAMES). */
export const ALL_TOOLS: readonly ToolDefinition[] = [
  getUserDetails,
  listMessages,
  getMessage,
  listEvents,
  searchFiles,
  searchPeople,
  sendMail,
  createEvent,
  authStatus,
];

const BY_NAME: ReadonlyMap<string, ToolDefinition> = new Map(
  ALL_TOOLS.map((tool) => [tool.name, tool]),
);

/** The tool of a contract name, or undefined for a name that is not one. */
export function toolByName(name: string): ToolDefinition | undefined {
  return BY_NAME.get(name);
}
