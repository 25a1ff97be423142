// The project's active connectors: status, features, activity, key-age warnings and quick
// actions (configure, test, validate, enable/disable, rotate credentials, remove with the diff
// first).
import { daysFromNow, html, humanize, logoOf } from './html.js'

const STATUS = {
  active: ['Connected', 'ok'],
  validated: ['Validated, not enabled', 'info'],
  configured: ['Configured, not validated', 'info'],
  installed: ['Installed', 'info'],
  disabled: ['Disabled', 'muted'],
  error: ['Error', 'bad'],
}

/** Credentials older than this get a "rotate" warning. */
const KEY_AGE_WARNING_DAYS = 90

function when(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString('en-GB', { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' }) + ' UTC'
}

function keyWarnings(instance) {
  const out = []
  for (const v of instance.expiringVersions ?? []) {
    const days = daysFromNow(v.expiresAt)
    out.push(days > 0 ? `The previous credentials (version ${v.version}) expire in ${days} day${days === 1 ? '' : 's'}.` : `The previous credentials (version ${v.version}) have expired.`)
  }
  const age = -daysFromNow(instance.updatedAt)
  if (age >= KEY_AGE_WARNING_DAYS) out.push(`The credentials are ${age} days old: rotate them.`)
  return out
}

function figure(value) {
  return typeof value === 'number' ? String(value) : '—'
}

export function ActiveConnectors({ project, names, onAction }) {
  if (!project) return html`<p role="status">Loading…</p>`
  const instances = project.instances.filter((i) => i.status !== 'removed')
  return html`<section aria-labelledby="active-title">
    <h2 id="active-title" tabindex="-1">Active connectors</h2>
    ${project.problems?.length ? html`<div class="alert" role="alert"><p>Problems in the project:</p><ul>${project.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}
    ${instances.length === 0 ? html`<p>This project has no connectors yet. Add one from the marketplace.</p>` : ''}
    <ul class="active-list">
      ${instances.map((inst) => {
        const code = project.connectors.find((c) => c.id === inst.connector)
        const name = names[inst.connector] ?? inst.connector
        const [label, tone] = STATUS[inst.status] ?? [inst.status, 'info']
        const activity = inst.activity ?? {}
        const warnings = keyWarnings(inst)
        const act = (action) => () => onAction(action, inst.connector)
        // One button slot for the next lifecycle step, so the focus stays on it as it changes.
        const lifecycle = { configured: 'validate', error: 'validate', validated: 'enable', disabled: 'enable', active: 'disable' }[inst.status]
        return html`<li><article class="card wide" aria-labelledby=${`active-${inst.connector}`}>
          <div class="card-head"><img src=${logoOf(inst.connector)} alt="" width="40" height="40" />
            <h3 id=${`active-${inst.connector}`}>${name}</h3>
            <span class=${`status ${tone}`}>${label}</span></div>
          <p>Features: ${code?.features?.length ? code.features.join(', ') : 'none'}${code ? '' : ' (code not in the project)'}</p>
          <dl class="stats">
            <div><dt>Last used</dt><dd>${when(activity.lastUsedAt)}</dd></div>
            <div><dt>API calls today</dt><dd>${figure(activity.apiCallsToday)}</dd></div>
            <div><dt>Credential reads today</dt><dd>${figure(activity.credentialReadsToday)}</dd></div>
            <div><dt>Errors today</dt><dd>${figure(activity.errorsToday)}</dd></div>
            <div><dt>Last validated</dt><dd>${when(inst.lastValidatedAt)}</dd></div>
            <div><dt>Credentials</dt><dd>version ${inst.credentialsVersion}, set ${when(inst.updatedAt)}</dd></div>
          </dl>
          ${activity.days?.length
            ? html`<table class="days"><caption>Activity, most recent days</caption>
              <thead><tr><th scope="col">Day</th><th scope="col">API calls</th><th scope="col">Credential reads</th><th scope="col">Errors</th></tr></thead>
              <tbody>${activity.days.slice(0, 7).map((d) => html`<tr><th scope="row">${d.day}</th><td>${d.apiCalls}</td><td>${d.credentialReads}</td><td>${d.errors}</td></tr>`)}</tbody></table>`
            : ''}
          ${activity.lastError ? html`<p class="field-error">Last error (${activity.lastError.kind}, ${when(activity.lastError.at)}): ${activity.lastError.message}</p>` : ''}
          ${warnings.length ? html`<ul class="warnings">${warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
          <div class="actions" role="group" aria-label=${`${name} actions`}>
            <button type="button" class="secondary" onClick=${act('configure')} aria-label=${`Configure ${name}`}>Configure</button>
            <button type="button" class="secondary" onClick=${act('test')} aria-label=${`Test ${name}`}>Test</button>
            ${lifecycle ? html`<button type="button" class="secondary" onClick=${act(lifecycle)} aria-label=${`${humanize(lifecycle)} ${name}`}>${humanize(lifecycle)}</button>` : ''}
            <button type="button" class="secondary" onClick=${act('rotate')} aria-label=${`Rotate credentials of ${name}`}>Rotate credentials</button>
            <button type="button" class="danger" onClick=${act('remove')} aria-label=${`Remove ${name}`}>Remove</button>
          </div>
        </article></li>`
      })}
    </ul>
  </section>`
}
