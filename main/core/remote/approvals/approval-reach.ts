import {
  UrlElicitationRequiredError,
  type ClientCapabilities,
  type ElicitRequestURLParams,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * How one MCP request can send its user to an approval page. A client that declared URL
 * elicitation (`elicitation.url` in its capabilities) is answered at once with −32042 naming
 * the page: it opens the page and retries, and the retry finds the decision. Any other client
 * waits, with the link in its progress messages and, if the wait ends undecided, in the result.
 * Made per request by the MCP layer and handed to `StoreApprovals.requester`.
 */
export class ApprovalReach {
  /** Whether the client opens URLs it is sent with −32042. */
  readonly urlElicitation: boolean;
  #required: ElicitRequestURLParams | undefined;

  constructor(urlElicitation: boolean) {
    this.urlElicitation = urlElicitation;
  }

  /** The reach of a client by the capabilities it declared in `initialize`. */
  static forClient(capabilities: ClientCapabilities | undefined): ApprovalReach {
    return new ApprovalReach(capabilities?.elicitation?.url !== undefined);
  }

  /** Notes that the client must open `url` to decide (called by the approvals for this request). */
  require(elicitation: { elicitationId: string; url: string; message: string }): void {
    this.#required = { mode: 'url', ...elicitation };
  }

  /** The page the client must open, once the approvals asked for one. */
  get required(): ElicitRequestURLParams | undefined {
    return this.#required;
  }

  /**
   * Throws the SDK's UrlElicitationRequiredError (−32042) when this request's call is waiting
   * for a decision on a page; the MCP layer calls it once the tool runner has answered, so the
   * client gets the JSON-RPC error instead of the tool result.
   */
  throwIfRequired(): void {
    if (this.#required)
      throw new UrlElicitationRequiredError([this.#required], this.#required.message);
  }
}
