// Type declarations of pgrt.js, the pgrt browser/Node client. Reference: docs/client.md.

/** Error codes: the bridge's (docs/protocol.md, "Errors") and the client's own. */
export type ErrorCode =
  | 'BAD_REQUEST' | 'UNAUTHORIZED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'INVALID_TRANSITION'
  | 'TOO_LARGE' | 'RATE_LIMITED' | 'UNAVAILABLE' | 'INTERNAL'
  | 'TIMEOUT' | 'DISCONNECTED' | 'OFFLINE' | 'QUEUE_FULL' | 'CLOSED' | 'LEFT';

export class PgrtError extends Error {
  readonly code: ErrorCode | string;
  /** The same command may succeed later (UNAVAILABLE, RATE_LIMITED, TIMEOUT, ...). */
  readonly retry: boolean;
  /** Written, but the connection dropped before the reply: it may or may not have been applied. */
  readonly unknownOutcome: boolean;
}

/** A persisted event (with seq) or a signal (without), exactly as the bridge sends it. */
export interface RoomEvent<D = Record<string, unknown>> {
  type: 'event';
  room: string;
  seq?: number;
  event: string;
  actor: string | null;
  at: string;
  data: D;
}

export interface PersistedEvent<D = Record<string, unknown>> extends RoomEvent<D> {
  seq: number;
}

export interface MessageData {
  body: string | null;
  media_url: string | null;
  meta: Record<string, unknown>;
  client_msg_id: string | null;
  deleted?: boolean;
}

/** A join reply; `resumed` is false for the first join of this Room object, true for rejoins. */
export interface JoinInfo {
  room: string;
  kind: string;
  seq: number;
  state: string | null;
  version: number | null;
  /** Every user online, or (when `occupancy` is present: a room above its presence threshold) the first 20. */
  presence: string[];
  /** Users online; present only for a room above its presence threshold (docs/protocol.md "Presence and occupancy"). */
  occupancy?: number;
  recovered: boolean;
  role: 'owner' | 'member' | 'viewer' | 'service';
  resumed: boolean;
  ended?: boolean;
}

/** A page of the roster: users online after `after`, sorted; `next` is null on the last page. */
export interface RosterPage {
  room: string;
  occupancy: number;
  users: string[];
  next: string | null;
}

export type Status = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StatusDetail {
  status: Status;
  /** Commands waiting for a connection. */
  queued: number;
  attempt?: number;
  /** reconnecting: milliseconds until the next attempt. */
  delay?: number;
  /** reconnecting/closed: the close code that caused it (4001, 4008, 4029, 1001, 1006, ...). */
  code?: number;
  reason?: string;
  /** open: the id of the bridge this connection reached. */
  bridge?: string;
}

export interface ClientOptions {
  /** ws:// or wss:// URL of /ws, or several (tried in turn after 1001 and repeated failures). Default: this page's /ws. */
  url?: string | string[];
  /** A JWT. Either this or getToken is required. */
  token?: string;
  /** Returns a fresh JWT: called without a token, after close 4001, and before exp (then sent as an `auth` frame). */
  getToken?: () => Promise<string> | string;
  /**
   * Where the token goes when connecting. 'frame' (default): nowhere in the URL; the upgrade asks
   * for the `pgrt.auth` subprotocol and the token is the first frame (bridges of this version and
   * later). 'query': `?token=JWT` in the URL, for older bridges (keep query strings out of logs).
   */
  tokenIn?: 'frame' | 'query';
  /** A WebSocket class; default globalThis.WebSocket (Node 20: pass the one of the `ws` package). */
  WebSocket?: new (url: string, protocols?: string | string[]) => unknown;
  /** ms to wait for a reply once a frame is written (default 10000). */
  timeout?: number;
  backoffInitial?: number;
  backoffMax?: number;
  rateLimitedDelay?: number;
  stableAfter?: number;
  maxQueue?: number;
  maxFrameBytes?: number;
  retries?: number;
  typingInterval?: number;
  typingExpiry?: number;
  replayGrace?: number;
  refreshBefore?: number;
}

export interface CommandOptions {
  timeout?: number;
}

export interface JoinHandlers {
  /** Start after this seq (replayed by the bridge); default: live from the join on. */
  since?: number;
  onEvent?: (event: PersistedEvent) => void;
  onSignal?: (signal: RoomEvent) => void;
  onJoin?: (info: JoinInfo) => void;
  onPresence?: (users: string[]) => void;
  onOccupancy?: (occupancy: number) => void;
  onTyping?: (users: string[]) => void;
  onRead?: (read: { user: string; seq: number }) => void;
  onGap?: (gap: { after: number; before: number }) => void;
  /** A user's content was erased (docs/protocol.md "Erasure"): redact what is shown of theirs up to `upto`. */
  onErased?: (erased: { user: string; upto: number; seq: number }) => void;
  onError?: (error: PgrtError) => void;
}

type Off = () => void;

export class Room {
  readonly id: string;
  readonly client: Client;
  /** Last seq handed to the application (null before the first join reply). */
  readonly lastSeq: number | null;
  /** The latest join reply, kept current by state and room_ended events. */
  readonly info: JoinInfo | null;
  /** Users online: everyone while presenceComplete, else a page (see roster()). */
  readonly presence: Set<string>;
  /** How many users are online, across all bridges. */
  readonly occupancy: number;
  /** False for a room above its presence threshold: `presence` then holds a page, `occupancy` the count. */
  readonly presenceComplete: boolean;
  readonly joined: boolean;
  readonly left: boolean;
  /** Resolves on the first join reply; rejects when the join is refused (FORBIDDEN, ...). */
  readonly ready: Promise<Room>;

  send(body: string, options?: CommandOptions & { media_url?: string; meta?: Record<string, unknown>; client_msg_id?: string }): Promise<PersistedEvent<MessageData>>;
  publish<D extends Record<string, unknown>>(event: string, data?: D, options?: CommandOptions): Promise<PersistedEvent<D>>;
  signal(event: string, data?: Record<string, unknown>, options?: CommandOptions): Promise<Record<string, never>>;
  state(to: string, expect?: number | null, options?: CommandOptions): Promise<PersistedEvent<{ from: string; to: string; version: number }>>;
  edit(seq: number, body: string, options?: CommandOptions): Promise<PersistedEvent<{ seq: number; body: string }>>;
  delete(seq: number, options?: CommandOptions): Promise<PersistedEvent<{ seq: number }>>;
  read(seq: number, options?: CommandOptions): Promise<Record<string, never>>;
  /** At most `limit` events and 256 KiB of them: fewer may come although older ones exist (see historyPage). */
  history(options?: CommandOptions & { before?: number; limit?: number }): Promise<PersistedEvent[]>;
  /** One history page; `more` is true while older events exist: page on with before = events[0].seq. */
  historyPage(options?: CommandOptions & { before?: number; limit?: number }): Promise<{ events: PersistedEvent[]; more: boolean }>;
  /** One page of who is online (the roster frame). */
  roster(options?: CommandOptions & { after?: string; limit?: number }): Promise<RosterPage>;
  typing(active?: boolean): void;
  leave(): Promise<void>;

  on(name: 'event', fn: (event: PersistedEvent) => void): Off;
  on(name: 'signal', fn: (signal: RoomEvent) => void): Off;
  on(name: 'join', fn: (info: JoinInfo) => void): Off;
  on(name: 'presence' | 'typing', fn: (users: string[]) => void): Off;
  on(name: 'occupancy', fn: (occupancy: number) => void): Off;
  on(name: 'read', fn: (read: { user: string; seq: number }) => void): Off;
  on(name: 'gap', fn: (gap: { after: number; before: number }) => void): Off;
  on(name: 'erased', fn: (erased: { user: string; upto: number; seq: number }) => void): Off;
  on(name: 'error', fn: (error: PgrtError) => void): Off;
}

export interface SystemFrame {
  type: 'system';
  event: string;
  data: Record<string, unknown>;
}

export interface WelcomeFrame {
  type: 'welcome';
  conn: string;
  user: string;
  bridge: string;
  heartbeat: number;
}

/** One search result (docs/protocol.md "Search"). */
export interface SearchResult {
  room: string;
  seq: number;
  event: 'message' | 'transcript';
  actor: string | null;
  /** ISO 8601; pass the last one as `before` for the next page. */
  at: string;
  /** HTML: the text escaped, matches wrapped in <mark>. */
  snippet: string;
}

export class Client {
  constructor(options: ClientOptions);
  readonly options: Required<Omit<ClientOptions, 'url' | 'token' | 'getToken' | 'WebSocket'>> & ClientOptions;
  readonly status: Status;
  /** From the welcome frame: the token's `sub`. */
  readonly user: string | null;
  readonly bridge: string | null;
  readonly rooms: Map<string, Room>;
  readonly queued: number;

  join(room: string, handlers?: JoinHandlers): Room;
  /** Full-text search of the rooms this user may read (or one room); newest first. */
  search(query: string, options?: CommandOptions & { room?: string; before?: string; limit?: number }): Promise<SearchResult[]>;
  close(): void;

  on(name: 'status', fn: (detail: StatusDetail) => void): Off;
  on(name: 'welcome', fn: (frame: WelcomeFrame) => void): Off;
  on(name: 'system', fn: (frame: SystemFrame) => void): Off;
  on(name: 'error', fn: (error: PgrtError) => void): Off;
  on(name: 'token', fn: (token: string) => void): Off;
}

export function connect(options: ClientOptions): Client;

/**
 * Redacts an event as the server redacted the stored ones when `user` was erased; `erasedMessages`:
 * seqs of that user's messages (so others' edits of them are redacted too). True when it changed.
 */
export function redactErased(event: PersistedEvent, user: string, erasedMessages?: Set<number>): boolean;

export function backoffDelay(attempt: number, initial: number, max: number): number;

export function tokenExpiry(token: string): number | null;
