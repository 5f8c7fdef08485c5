import type { ToolPolicyDto } from '../../preload/contract.ts';

/** The default policy of the nine tools, as the core would report it. */
export function toolPolicies(): ToolPolicyDto[] {
  const read = (tool: ToolPolicyDto['tool'], title: string, scopes: string[]): ToolPolicyDto => ({
    tool,
    title,
    kind: 'read',
    enabled: true,
    approval: false,
    requireRole: null,
    scopes,
  });
  return [
    read('get_user_details', 'Get user details', ['User.Read']),
    read('list_messages', 'List messages', ['Mail.Read']),
    read('get_message', 'Get message', ['Mail.Read']),
    read('list_events', 'List events', ['Calendars.Read']),
    read('search_files', 'Search files', ['Files.Read']),
    read('search_people', 'Search people', ['People.Read']),
    {
      ...read('send_mail', 'Send mail', ['Mail.Send']),
      kind: 'write',
      approval: true,
      requireRole: 'Valet.Mail.Send',
    },
    {
      ...read('create_event', 'Create event', ['Calendars.ReadWrite']),
      kind: 'write',
      approval: true,
    },
    read('auth_status', 'Auth status', []),
  ];
}
