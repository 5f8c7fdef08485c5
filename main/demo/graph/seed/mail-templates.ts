/** A seeded mail: `{p}` is a project, `{q}` a quarter; paragraphs are separated by `/`. */
export interface MailTemplate {
  subject: string;
  paragraphs: string[];
  importance?: 'low' | 'high';
  attachment?: boolean;
  external?: boolean;
}

/**
 * One template a line: flags (`!` high importance, `.` low, `@` attachment, `x` external),
 * subject and paragraphs separated by `|`.
 */
const TABLE = `
@  | {q} budget review for {p} | Attached is the draft budget for {p}. Could you review the travel and contractor lines before Thursday? | Finance needs our numbers by the end of the week.
-  | {p} launch checklist | Here is the updated launch checklist for {p}. Marketing owns the press kit; engineering owns the release notes. | Flag anything at risk in the channel.
!  | Action required: approve {p} purchase order | A purchase order for {p} is waiting for your approval in the procurement portal. | It expires in three business days.
-  | Notes from the {p} design review | Thanks all for the design review. Decisions: keep the current data model, move the export feature to the next milestone. | Open question: do we need offline support at launch?
.  | Lunch on Friday? | A few of us are going to the new place by the river on Friday. Want to join?
!x | Re: {p} customer escalation | The customer confirmed the workaround resolves the outage for now. | We still owe them a root-cause analysis by Monday.
@x | Contract renewal for {q} | Our agreement comes up for renewal in {q}. I have attached the proposed terms for your review. | Happy to set up a call to walk through the changes.
-  | Weekly status: {p} | Green overall. Two open bugs block the beta; both have owners. | Next week: load testing and the accessibility pass.
x  | Invitation to speak at our {q} partner summit | We would love to have someone from your team present {p} at our partner summit. | Sessions are 30 minutes with time for questions.
-  | Org announcement: welcome our new team members | Please join me in welcoming three new colleagues to the team this month. | Say hello at the coffee corner on Wednesday.
!  | Expense report reminder | Expense reports for last month are due on Friday. Receipts over 25 must be attached.
@  | Slides for the {p} all-hands | Here are the slides for the all-hands. Please send corrections by tomorrow noon.
-  | Security training due | Your annual security awareness training is due at the end of the month. | It takes about 40 minutes.
x  | Question about the {p} API | We are integrating with the {p} API and see intermittent 429 responses. | Is there a recommended retry policy?
@  | Offsite agenda draft | Draft agenda for the offsite is attached: strategy in the morning, team workshops after lunch.
!x | Invoice {q}-{p} overdue | Our records show invoice {q}-{p} is 15 days overdue. Please advise on the payment date.
-  | Hiring loop for the {p} team | Can you interview a candidate for the {p} team next week? Forty-five minutes, system design.
-  | Feedback on the {p} roadmap | I read the roadmap. The sequencing makes sense, but the {q} goals look ambitious given staffing.
`;

/** Mail the seeded inboxes are made of. */
export const MAIL_TEMPLATES: readonly MailTemplate[] = TABLE.trim()
  .split('\n')
  .map((line) => {
    const [flags = '', subject = '', ...paragraphs] = line.split('|').map((cell) => cell.trim());
    return {
      subject,
      paragraphs,
      ...(flags.includes('!') ? { importance: 'high' as const } : {}),
      ...(flags.includes('.') ? { importance: 'low' as const } : {}),
      ...(flags.includes('@') ? { attachment: true } : {}),
      ...(flags.includes('x') ? { external: true } : {}),
    };
  });
