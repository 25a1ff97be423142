// The testing interface: pick one of the project's connectors and a test action (or a live
// validation of the stored credentials), set its parameters, run it, and read the steps.
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from './api.js'
import { html, humanize } from './html.js'

const VALIDATE = '__validate'

export function Testing({ projectId, connectors, names, initial, onRan }) {
  const [connectorId, setConnectorId] = useState(initial ?? connectors[0] ?? '')
  const [def, setDef] = useState(null)
  const [action, setAction] = useState(VALIDATE)
  const [params, setParams] = useState({})
  const [result, setResult] = useState(null)
  const [error, setError] = useState(null)
  const [running, setRunning] = useState(false)
  const resultRef = useRef(null)

  useEffect(() => {
    if (!connectorId) return
    setDef(null)
    setResult(null)
    setAction(VALIDATE)
    api.connector(connectorId).then(setDef, (e) => setError(e.message))
  }, [connectorId])
  const chosen = def?.testActions.find((a) => a.id === action)
  useEffect(() => setParams(chosen ? { ...chosen.params } : {}), [action, def])
  useEffect(() => {
    if (result) resultRef.current?.focus()
  }, [result])

  if (connectors.length === 0) {
    return html`<section aria-labelledby="testing-title"><h2 id="testing-title" tabindex="-1">Testing</h2>
      <p>This project has no connectors to test yet.</p></section>`
  }
  const run = async (e) => {
    e.preventDefault()
    setRunning(true)
    setError(null)
    setResult(null)
    try {
      const report = await api.test(projectId, connectorId, action === VALIDATE ? undefined : action, params)
      setResult(report)
      onRan()
    } catch (err) {
      setError(err.fields?.length ? `${err.message} (${err.fields.map((f) => f.field).join(', ')})` : err.message)
    } finally {
      setRunning(false)
    }
  }
  return html`<section aria-labelledby="testing-title">
    <h2 id="testing-title" tabindex="-1">Testing</h2>
    <form class="test-form" onSubmit=${run}>
      <div class="field inline"><label for="test-connector">Connector</label>
        <select id="test-connector" onChange=${(e) => setConnectorId(e.currentTarget.value)}>
          ${connectors.map((c) => html`<option value=${c} selected=${c === connectorId}>${names[c] ?? c}</option>`)}
        </select></div>
      <div class="field inline"><label for="test-action">Test</label>
        <select id="test-action" onChange=${(e) => setAction(e.currentTarget.value)} disabled=${!def}>
          <option value=${VALIDATE} selected=${action === VALIDATE}>Validate the stored credentials</option>
          ${(def?.testActions ?? []).map((a) => html`<option value=${a.id} selected=${a.id === action}>${a.name}</option>`)}
        </select></div>
      ${chosen ? html`<p class="hint">${chosen.description}</p>` : ''}
      ${Object.keys(params).length > 0
        ? html`<fieldset><legend>Parameters</legend>
          ${Object.entries(params).map(([name, value]) => html`<div class="field inline"><label for=${`param-${name}`}>${humanize(name)}</label>
            <input id=${`param-${name}`} type=${typeof chosen.params[name] === 'number' ? 'number' : 'text'} value=${value}
              onInput=${(e) => setParams({ ...params, [name]: typeof chosen.params[name] === 'number' ? Number(e.currentTarget.value) : e.currentTarget.value })} /></div>`)}
          </fieldset>`
        : ''}
      <button type="submit" disabled=${running || !def}>${running ? 'Running…' : 'Run test'}</button>
    </form>
    ${error ? html`<div class="alert" role="alert">${error}</div>` : ''}
    ${result
      ? html`<div class="result" tabindex="-1" ref=${resultRef} aria-labelledby="result-title">
        <h3 id="result-title">${result.success ? 'Passed' : 'Failed'} in ${result.duration} ms</h3>
        <ol class="test-steps">
          ${result.steps.map((s) => html`<li class=${s.passed ? 'pass' : 'fail'}>
            <span class="mark" aria-hidden="true">${s.passed ? '✓' : '✗'}</span>
            <strong>${s.name}</strong>: ${s.passed ? 'passed' : 'failed'} <span class="timing">(${s.duration} ms)</span>
            ${s.details ? html`<div class="details">${s.details}</div>` : ''}
            ${s.field ? html`<div class="details">Field: <code>${s.field}</code></div>` : ''}
            ${s.suggestion ? html`<div class="details">What to do: ${s.suggestion}</div>` : ''}
          </li>`)}
        </ol></div>`
      : ''}
  </section>`
}
