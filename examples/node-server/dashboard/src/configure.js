// The configuration modal: introduction, authentication, configuration (a form made from the
// connector's JSON Schema, with the library's field errors inline as the user types),
// features, review (the dry-run diff, secrets redacted, and the manual steps), confirm.
// Modes: `add` (a new connector), `configure` (a merge patch on the stored config: secrets are
// never shown, only replaced), `rotate` (new secret values only).
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from './api.js'
import { Dialog } from './dialog.js'
import { html, humanize } from './html.js'

const STEPS = {
  add: ['Introduction', 'Authentication', 'Configuration', 'Features', 'Review'],
  configure: ['Authentication', 'Configuration', 'Features', 'Review'],
  rotate: ['Authentication', 'Review'],
}

/** The config member a JSON pointer is about (`/prices/pro/amount` -> `prices`). */
function member(pointer) {
  return (pointer.split('/')[1] ?? '').replaceAll('~1', '/').replaceAll('~0', '~')
}

/** Which controls each config member gets. */
function kindOf(schema) {
  if (schema.type === 'boolean') return 'checkbox'
  if (schema.type === 'integer' || schema.type === 'number') return 'number'
  if (schema.type === 'array' && Array.isArray(schema.items?.enum)) return 'multi'
  if (schema.type === 'string' && Array.isArray(schema.enum)) return 'select'
  if (schema.type === 'object' || schema.type === 'array') return 'json'
  return 'text'
}

/** The members each step shows. */
function partition(def, mode) {
  const props = def.configSchema.properties ?? {}
  const required = new Set(def.configSchema.required ?? [])
  const isSecret = (name) => def.fields[`/${name}`]?.sensitivity === 'secret'
  const featureControlled = new Set(
    (def.features ?? [])
      .filter((f) => f.enabledWhen && ('equals' in f.enabledWhen || 'contains' in f.enabledWhen))
      .map((f) => member(f.enabledWhen.pointer)),
  )
  const names = Object.keys(props)
  const authentication = names.filter((n) => isSecret(n) || (required.has(n) && mode !== 'rotate'))
  if (mode === 'rotate') return { authentication: names.filter(isSecret), configuration: [] }
  const configuration = names.filter((n) => !authentication.includes(n) && !featureControlled.has(n))
  return { authentication, configuration }
}

/** One config member's control, its hint and its inline error. */
function Field({ def, name, value, error, secretStored, onInput, onBlur }) {
  const schema = def.configSchema.properties[name]
  const info = def.fields[`/${name}`] ?? {}
  const secret = info.sensitivity === 'secret'
  const required = (def.configSchema.required ?? []).includes(name)
  const id = `field-${name}`
  const hintId = `${id}-hint`
  const errorId = `${id}-error`
  const describedBy = [info.hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined
  const kind = kindOf(schema)
  const label = html`${humanize(name)}${required ? html` <span class="required">(required)</span>` : ''}${secret ? html` <span class="tag">secret</span>` : ''}`
  const hint = info.hint ? html`<p class="hint" id=${hintId}>${info.hint}</p>` : ''
  const err = error ? html`<p class="field-error" id=${errorId}>${error}</p>` : ''
  if (kind === 'checkbox') {
    return html`<div class="field check">
      <input type="checkbox" id=${id} checked=${value === true} aria-describedby=${describedBy}
        onChange=${(e) => onInput(name, e.currentTarget.checked)} onBlur=${() => onBlur(name)} />
      <label for=${id}>${label}</label>${hint}${err}</div>`
  }
  if (kind === 'multi') {
    const chosen = Array.isArray(value) ? value : []
    return html`<fieldset class="field" aria-describedby=${describedBy}>
      <legend>${label}</legend>
      ${schema.items.enum.map((option) => html`<div class="check">
        <input type="checkbox" id=${`${id}-${option}`} checked=${chosen.includes(option)}
          onChange=${(e) => onInput(name, e.currentTarget.checked ? [...chosen, option] : chosen.filter((o) => o !== option))}
          onBlur=${() => onBlur(name)} />
        <label for=${`${id}-${option}`}>${humanize(option)}</label></div>`)}
      ${hint}${err}</fieldset>`
  }
  if (kind === 'select') {
    return html`<div class="field"><label for=${id}>${label}</label>
      <select id=${id} aria-describedby=${describedBy} aria-invalid=${error ? 'true' : undefined}
        onChange=${(e) => onInput(name, e.currentTarget.value || undefined)} onBlur=${() => onBlur(name)}>
        <option value="">(default)</option>
        ${schema.enum.map((o) => html`<option value=${o} selected=${value === o}>${o}</option>`)}
      </select>${hint}${err}</div>`
  }
  if (kind === 'json') {
    return html`<div class="field"><label for=${id}>${label} <span class="tag">JSON</span></label>
      <textarea id=${id} rows="3" aria-describedby=${describedBy} aria-invalid=${error ? 'true' : undefined}
        onInput=${(e) => onInput(name, e.currentTarget.value, 'json')} onBlur=${() => onBlur(name)}
        value=${typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)}></textarea>${hint}${err}</div>`
  }
  const placeholder = secretStored ? 'stored on the server; type a new value to replace it' : schema.default !== undefined ? `default: ${schema.default}` : undefined
  return html`<div class="field"><label for=${id}>${label}</label>
    <input id=${id} type=${secret ? 'password' : kind === 'number' ? 'number' : 'text'} autocomplete="off" spellcheck="false"
      value=${value ?? ''} placeholder=${placeholder} aria-describedby=${describedBy} aria-invalid=${error ? 'true' : undefined}
      onInput=${(e) => onInput(name, e.currentTarget.value, kind)} onBlur=${() => onBlur(name)} />${hint}${err}</div>`
}

/** The config to send: empty inputs left out, JSON members parsed (unparsable ones kept as text). */
function cleaned(values) {
  const out = {}
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === '') continue
    out[name] = value
  }
  return out
}

/** The members that differ from `initial` (a merge patch), new secret values included. */
function patchOf(values, initial) {
  const patch = {}
  for (const [name, value] of Object.entries(cleaned(values))) {
    if (JSON.stringify(value) !== JSON.stringify(initial[name])) patch[name] = value
  }
  for (const name of Object.keys(initial)) {
    if (!(name in cleaned(values))) patch[name] = null
  }
  return patch
}

function FeatureStep({ def, values, setValue }) {
  const features = def.features ?? []
  if (features.length === 0) return html`<p>${def.name} has no optional features.</p>`
  return html`<fieldset class="features"><legend>Features to turn on</legend>
    ${features.map((f) => {
      const when = f.enabledWhen ?? {}
      const name = member(when.pointer ?? '')
      const id = `feature-${f.id}`
      if ('equals' in when || 'contains' in when) {
        const current = values[name]
        const fallback = def.configSchema.properties?.[name]?.default
        const list = Array.isArray(current) ? current : Array.isArray(fallback) ? fallback : []
        const on = 'equals' in when ? current === when.equals : list.includes(when.contains)
        const toggle = (checked) => {
          if ('equals' in when) setValue(name, checked ? when.equals : undefined)
          else setValue(name, checked ? [...list.filter((v) => v !== when.contains), when.contains] : list.filter((v) => v !== when.contains))
        }
        return html`<div class="check feature">
          <input type="checkbox" id=${id} checked=${on} aria-describedby=${`${id}-desc`} onChange=${(e) => toggle(e.currentTarget.checked)} />
          <label for=${id}>${f.name}</label><p class="hint" id=${`${id}-desc`}>${f.description}</p></div>`
      }
      return html`<div class="feature"><p><strong>${f.name}</strong>: ${f.description}</p>
        <p class="hint">On when ${humanize(name)} is set (Authentication step).</p></div>`
    })}</fieldset>`
}

function Review({ mode, plan, error }) {
  if (error) return html`<div class="alert" role="alert">${error}</div>`
  if (!plan) return html`<p role="status">Preparing the preview…</p>`
  const changes = plan.codeChanges
  return html`<div class="review">
    <p>${changes.summary}: ${changes.filesAdded} files added, ${changes.filesModified} changed, ${changes.filesDeleted} deleted.</p>
    <h3>Files</h3>
    <ul class="files">${changes.files.map((f) => html`<li><code>${f.path}</code> (${f.action})</li>`)}</ul>
    ${changes.manualSteps.length > 0 ? html`<h3>Manual steps</h3><ol class="manual">${changes.manualSteps.map((s) => html`<li>${s}</li>`)}</ol>` : ''}
    ${changes.warnings.length > 0 ? html`<h3>Warnings</h3><ul>${changes.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
    ${plan.diff !== undefined
      ? html`<h3 id="diff-title">Changes to the project (secret values redacted)</h3>
        <pre class="diff" tabindex="0" aria-labelledby="diff-title">${plan.diff.split('\n').map((line) => html`<span class=${line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : ''}>${line}\n</span>`)}</pre>`
      : html`<p class="hint">${mode === 'rotate' ? 'The new secret values are stored encrypted; the old ones keep working for 7 days.' : 'Only the files above change.'}</p>`}
  </div>`
}

export function ConfigureModal({ projectId, connectorId, mode, onClose, onDone }) {
  const [def, setDef] = useState(null)
  const [initial, setInitial] = useState({})
  const [secretsSet, setSecretsSet] = useState([])
  const [values, setValues] = useState({})
  const [step, setStep] = useState(0)
  const [issues, setIssues] = useState({})
  const [touched, setTouched] = useState(new Set())
  const [jsonErrors, setJsonErrors] = useState({})
  const [plan, setPlan] = useState(null)
  const [planError, setPlanError] = useState(null)
  const [busy, setBusy] = useState(false)
  const [loadError, setLoadError] = useState(null)
  const stepHeading = useRef(null)
  const steps = STEPS[mode]

  useEffect(() => {
    (async () => {
      try {
        const d = await api.connector(connectorId)
        if (mode !== 'add') {
          const stored = await api.storedConfig(projectId, connectorId)
          setInitial(stored.config)
          setValues(mode === 'rotate' ? {} : stored.config)
          setSecretsSet(stored.secretsSet)
        }
        setDef(d)
      } catch (e) {
        setLoadError(e.message)
      }
    })()
  }, [])

  // The library's field errors, as the user types (a short pause first).
  useEffect(() => {
    if (!def) return undefined
    const timer = setTimeout(async () => {
      const config = mode === 'add' ? cleaned(values) : patchOf(values, mode === 'rotate' ? {} : initial)
      try {
        const report = await api.validate(def.id, config, mode !== 'add')
        const byMember = {}
        for (const issue of report.issues) {
          if (issue.severity !== 'error') continue
          const name = member(issue.field)
          if (!byMember[name]) byMember[name] = issue.suggestion ? `${issue.message} (${issue.suggestion})` : issue.message
        }
        setIssues(byMember)
      } catch {
        // Validation answers come back on the next keystroke; a failed one shows nothing.
      }
    }, 200)
    return () => clearTimeout(timer)
  }, [def, values])

  useEffect(() => {
    stepHeading.current?.focus()
  }, [step])

  const fields = def ? partition(def, mode) : { authentication: [], configuration: [] }
  const stepName = steps[step]

  useEffect(() => {
    if (stepName !== 'Review' || !def) return
    setPlan(null)
    setPlanError(null)
    const request = mode === 'add' ? api.planAdd(projectId, def.id, cleaned(values)) : api.planUpdate(projectId, def.id, patchOf(values, mode === 'rotate' ? {} : initial))
    request.then(setPlan, (e) => setPlanError(e.fields?.length ? `${e.message}: ${e.fields.map((f) => `${f.field} ${f.message}`).join('; ')}` : e.message))
  }, [stepName])

  const setValue = (name, value, kind) => {
    let parsed = value
    if (kind === 'number' && value !== '') parsed = Number(value)
    if (kind === 'json') {
      try {
        parsed = value === '' ? undefined : JSON.parse(value)
        setJsonErrors((j) => ({ ...j, [name]: undefined }))
      } catch {
        setJsonErrors((j) => ({ ...j, [name]: 'not valid JSON' }))
      }
    }
    setValues((v) => ({ ...v, [name]: parsed }))
    setTouched((t) => new Set(t).add(name))
  }
  const blur = (name) => setTouched((t) => new Set(t).add(name))
  const errorOf = (name) => jsonErrors[name] ?? (touched.has(name) ? issues[name] : undefined)

  const stepFields = stepName === 'Authentication' ? fields.authentication : stepName === 'Configuration' ? fields.configuration : []
  const next = () => {
    // Show every error of this step; stay on it while one is left.
    const all = new Set(touched)
    stepFields.forEach((n) => all.add(n))
    setTouched(all)
    const bad = stepFields.find((n) => jsonErrors[n] ?? issues[n])
    if (bad) {
      document.getElementById(`field-${bad}`)?.focus()
      return
    }
    setStep(step + 1)
  }
  const confirm = async () => {
    setBusy(true)
    try {
      if (mode === 'add') {
        await api.add(projectId, def.id, cleaned(values))
        onDone(`${def.name} was added to ${projectId}.`)
      } else {
        await api.update(projectId, def.id, patchOf(values, mode === 'rotate' ? {} : initial))
        onDone(mode === 'rotate' ? `${def.name}: new credentials stored; the previous ones expire in 7 days.` : `${def.name} was updated.`)
      }
    } catch (e) {
      setPlanError(e.message)
      setBusy(false)
    }
  }

  const title = def ? `${mode === 'add' ? 'Add' : mode === 'rotate' ? 'Rotate credentials of' : 'Configure'} ${def.name}` : 'Loading…'
  let body
  if (loadError) body = html`<div class="alert" role="alert">${loadError}</div>`
  else if (!def) body = html`<p role="status">Loading…</p>`
  else {
    let content
    if (stepName === 'Introduction') {
      content = html`<div class="intro">
        <img src=${`logos/${['stripe', 'firebase', 'supabase', 'revenuecat', 'onesignal'].includes(def.id) ? def.id : 'generic'}.svg`} alt="" width="48" height="48" />
        <p>${def.description}</p>
        <p>Setup: <strong>${def.setupDifficulty}</strong>. You will enter ${def.name}'s keys, choose options and features, and see every change to the project before anything is written. Secret keys are stored encrypted on the server and never shown again.</p>
        <p><a href=${def.documentation} target="_blank" rel="noreferrer noopener">${def.name} documentation</a> · <a href=${def.setupGuide} target="_blank" rel="noreferrer noopener">setup guide</a></p></div>`
    } else if (stepName === 'Authentication') {
      const oauth = def.authTypes.includes('oauth') && mode === 'add'
      content = html`<div>
        ${oauth ? html`<div class="oauth"><button type="button" class="secondary" disabled aria-describedby="oauth-note">Connect with ${def.name} (OAuth)</button>
          <p class="hint" id="oauth-note">OAuth sign-in needs an OAuth client registered for this server; enter API keys below instead.</p></div>` : ''}
        ${fields.authentication.map((n) => html`<${Field} def=${def} name=${n} value=${values[n]} error=${errorOf(n)} secretStored=${secretsSet.includes(`/${n}`)} onInput=${setValue} onBlur=${blur} />`)}
      </div>`
    } else if (stepName === 'Configuration') {
      content = fields.configuration.length === 0
        ? html`<p>Nothing else to configure.</p>`
        : fields.configuration.map((n) => html`<${Field} def=${def} name=${n} value=${values[n]} error=${errorOf(n)} secretStored=${false} onInput=${setValue} onBlur=${blur} />`)
    } else if (stepName === 'Features') {
      content = html`<${FeatureStep} def=${def} values=${values} setValue=${(n, v) => setValue(n, v)} />`
    } else {
      content = html`<${Review} mode=${mode} plan=${plan} error=${planError} />`
    }
    body = html`
      <ol class="steps" aria-label="Steps">
        ${steps.map((s, i) => html`<li class=${i === step ? 'current' : i < step ? 'done' : ''} aria-current=${i === step ? 'step' : undefined}>${s}</li>`)}
      </ol>
      <form class="step" onSubmit=${(e) => { e.preventDefault(); stepName === 'Review' ? confirm() : next() }} novalidate>
        <h3 class="step-title" tabindex="-1" ref=${stepHeading}>Step ${step + 1} of ${steps.length}: ${stepName}</h3>
        ${content}
        <div class="actions">
          ${step > 0 ? html`<button type="button" class="secondary" onClick=${() => setStep(step - 1)}>Back</button>` : ''}
          ${stepName === 'Review'
            ? html`<button type="submit" disabled=${!plan || busy}>${mode === 'add' ? `Add ${def.name}` : 'Save'}</button>`
            : html`<button type="submit">Next</button>`}
        </div>
      </form>`
  }
  return html`<${Dialog} title=${title} onClose=${onClose} wide>${body}</${Dialog}>`
}
