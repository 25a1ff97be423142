// Authentication of the example server: one token given at start, sent as a bearer header by
// programs, or exchanged once by the dashboard for an HttpOnly SameSite=Strict session cookie.
// Requests authenticated by the cookie must also carry the session's CSRF token in a header
// when they change anything: a page of another site can make the browser send the cookie, but
// cannot read the token (it is only answered to a request that already authenticates, and the
// answer is not readable cross-origin).

import crypto from 'node:crypto'

/** Name of the session cookie. */
export const SESSION_COOKIE = 'mobigen_session'
/** Header that carries the CSRF token of a cookie session. */
export const CSRF_HEADER = 'x-csrf-token'
/** How long a session lasts (12 hours). */
const SESSION_TTL_MS = 12 * 60 * 60 * 1000
/** Most sessions kept at once; the oldest goes first. */
const MAX_SESSIONS = 1000
/** Shortest token accepted. */
const MIN_TOKEN_LENGTH = 16

/** Methods that change nothing: no CSRF token needed. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** An answer of the auth layer: `status`, `code`, `message`. */
export class AuthError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

function digest(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest()
}

/** Equal strings, in time that does not depend on where they differ. */
function sameSecret(a, b) {
  return crypto.timingSafeEqual(digest(a), digest(b))
}

function randomToken() {
  return crypto.randomBytes(32).toString('base64url')
}

/** The cookies of a request, by name (the first of each name). */
function cookies(req) {
  const out = new Map()
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq).trim()
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim())
  }
  return out
}

/**
 * The server's authentication. `token`: the one given at start (option or
 * `MOBIGEN_DASHBOARD_TOKEN`); without one a random token is made and `generated` is true.
 * Throws when a given token is shorter than 16 characters.
 */
export function createAuth(token) {
  const generated = token === undefined || token === ''
  const secret = generated ? randomToken() : String(token)
  if (secret.length < MIN_TOKEN_LENGTH) {
    throw new Error(`the dashboard token must have at least ${MIN_TOKEN_LENGTH} characters (MOBIGEN_DASHBOARD_TOKEN or the \`token\` option)`)
  }
  /** Session id -> { csrf, expires } (insertion order = age). */
  const sessions = new Map()

  function liveSession(id) {
    const session = sessions.get(id)
    if (!session) return undefined
    if (session.expires <= Date.now()) {
      sessions.delete(id)
      return undefined
    }
    return session
  }

  return {
    token: secret,
    generated,

    /**
     * Who sent `req`: `{ via: 'bearer' }` or `{ via: 'cookie', id, session }`. Throws 401
     * without a valid token or session, 403 for a cookie-authenticated state-changing request
     * without its CSRF token or from another origin.
     */
    check(req) {
      const header = req.headers.authorization
      if (header !== undefined) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
        if (!match || !sameSecret(match[1], secret)) {
          throw new AuthError(401, 'UNAUTHORIZED', 'the bearer token is not this server\'s token')
        }
        return { via: 'bearer' }
      }
      const id = cookies(req).get(SESSION_COOKIE)
      const session = id === undefined ? undefined : liveSession(id)
      if (!session) {
        throw new AuthError(401, 'UNAUTHORIZED', 'authentication required: send `Authorization: Bearer <token>` or sign in to the dashboard')
      }
      if (!SAFE_METHODS.has(req.method)) {
        const origin = req.headers.origin
        if (origin !== undefined && origin !== 'null') {
          let host
          try {
            host = new URL(origin).host
          } catch {
            host = undefined
          }
          if (host !== req.headers.host) {
            throw new AuthError(403, 'CSRF_REFUSED', `a request from ${origin} may not change anything here`)
          }
        }
        const sent = req.headers[CSRF_HEADER]
        if (typeof sent !== 'string' || !sameSecret(sent, session.csrf)) {
          throw new AuthError(403, 'CSRF_REFUSED', `a request authenticated by the session cookie must send the session's CSRF token in \`${CSRF_HEADER}\``)
        }
      }
      return { via: 'cookie', id, session }
    },

    /** A new session: its id (the cookie value), CSRF token and expiry. */
    startSession() {
      while (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value)
      const id = randomToken()
      const session = { csrf: randomToken(), expires: Date.now() + SESSION_TTL_MS }
      sessions.set(id, session)
      return { id, ...session }
    },

    endSession(id) {
      sessions.delete(id)
    },

    /**
     * The `Set-Cookie` value for session `id` (or one that clears the cookie); `secure` (a TLS
     * server) adds `Secure`.
     */
    cookie(id, { secure = false } = {}) {
      const attributes = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`
      if (id === undefined) return `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`
      return `${SESSION_COOKIE}=${id}; ${attributes}; Max-Age=${SESSION_TTL_MS / 1000}`
    },
  }
}
