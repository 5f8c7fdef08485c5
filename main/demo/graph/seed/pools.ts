/** A colleague the seeded mail, meetings and people list draw from. */
export interface Colleague {
  given: string;
  surname: string;
  jobTitle: string;
  department: string;
  office: string;
}

/** Reads `a | b | c` rows; a table keeps seed data readable where object literals would sprawl. */
function rows(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()));
}

/** Colleagues in the user's own organisation. */
export const COLLEAGUES: readonly Colleague[] = rows(`
  Megan     | Bowen      | Marketing Manager        | Marketing              | 12/1110
  Alex      | Wilber     | Marketing Assistant      | Marketing              | 131/1104
  Lee       | Gu         | Director                 | Manufacturing          | 23/3101
  Lidia     | Holloway   | Product Manager          | Engineering            | 20/1101
  Nestor    | Wilke      | Director                 | Operations             | 36/1121
  Patti     | Fernandez  | President                | Executive Management   | 15/1102
  Pradeep   | Gupta      | Accountant II            | Finance                | 98/2202
  Isaiah    | Langer     | Sales Rep                | Sales                  | 20/1101
  Johanna   | Lorenz     | Senior Engineer          | Engineering            | 23/2102
  Joni      | Sherman    | Paralegal                | Legal                  | 20/1109
  Lynne     | Robbins    | Planner                  | Retail                 | 20/1104
  Miriam    | Graham     | Director                 | Sales & Marketing      | 131/2103
  Grady     | Archie     | Designer                 | Research & Development | 19/2109
  Henrietta | Mueller    | Developer                | Research & Development | 18/1106
  Irvin     | Sayers     | Director                 | Research & Development | 20/2107
  Diego     | Siciliani  | HR Manager               | HR                     | 14/1108
  Enrico    | Cattaneo   | Attorney                 | Legal                  | 14/1102
  Christie  | Cline      | Buyer                    | Sales & Marketing      | 131/2105
  Debra     | Berger     | Administrative Assistant | Executive Management   | 18/2111
  Ben       | Walters    | VP Sales                 | Sales                  | 19/3123
  Adele     | Vance      | Retail Manager           | Retail                 | 18/2111
  Allan     | Deyoung    | IT Admin                 | IT                     | 131/1104
  Cameron   | White      | Security Analyst         | IT                     | 131/1108
  Emily     | Braun      | Budget Analyst           | Finance                | 97/2302
`).map(([given = '', surname = '', jobTitle = '', department = '', office = '']) => ({
  given,
  surname,
  jobTitle,
  department,
  office,
}));

/** A contact outside the organisation. */
export interface ExternalContact {
  name: string;
  company: string;
  domain: string;
}

/** Contacts outside the organisation. */
export const EXTERNAL_CONTACTS: readonly ExternalContact[] = rows(`
  Sanjay Shah    | Fabrikam          | fabrikam.test
  Rosa Lindqvist | Northwind Traders | northwind.test
  Tomás Ortega   | Adventure Works   | adventure-works.test
  Keiko Tanaka   | Tailspin Toys     | tailspintoys.test
  Wanjiru Kamau  | Woodgrove Bank    | woodgrovebank.test
`).map(([name = '', company = '', domain = '']) => ({ name, company, domain }));

/** Project code names that give the seeded mail, meetings and files something to be about. */
export const PROJECTS: readonly string[] = [
  'Falcon',
  'Northstar',
  'Atlas',
  'Orion',
  'Harbor',
  'Mercury',
  'Juniper',
  'Cobalt',
];

/** Seeded meetings: `{p}` is a project. */
export const MEETING_SUBJECTS: readonly string[] = [
  '{p} stand-up',
  '{p} sprint planning',
  '1:1',
  '{p} design review',
  'Customer call: {p}',
  'Budget sync',
  'All-hands',
  '{p} retrospective',
  'Interview: {p} candidate',
  'Lunch and learn',
  'Quarterly business review',
  '{p} roadmap workshop',
  'Security review',
  'Vendor demo',
];

/** Meeting rooms. */
export const ROOMS: readonly string[] = [
  'Conf Room Adams',
  'Conf Room Baker',
  'Conf Room Crystal',
  'Conf Room Rainier',
  'Cafeteria',
];

/** Seeded files: `{p}` is a project, `{q}` a quarter. */
export const FILE_NAMES: readonly string[] = [
  '{q} Budget.xlsx',
  '{p} Launch Plan.docx',
  '{p} Roadmap.pptx',
  'Team Offsite Agenda.docx',
  '{p} Architecture.vsdx',
  'Expense Report {q}.xlsx',
  '{p} Customer Feedback.docx',
  'Org Chart.pdf',
  '{p} Status Report.docx',
  'Vendor Contract {q}.pdf',
  '{p} Demo Script.docx',
  'Brand Guidelines.pdf',
  'Sales Forecast {q}.xlsx',
  '{p} Meeting Notes.one',
  'Product Photos.zip',
  '{p} Requirements.docx',
];

/** Folders the seeded files live in. */
export const FOLDERS: readonly string[] = ['Projects', 'Finance', 'Presentations', 'Team'];
