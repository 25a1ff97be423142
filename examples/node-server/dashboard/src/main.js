// The connector dashboard: sign in with the server's token (once; then an HttpOnly session
// cookie), pick a project, and use the four screens: marketplace, configuration modal, active
// connectors, testing.
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ActiveConnectors } from './active.js'
import { api, resumeSession, signIn, signOut } from './api.js'
import { ConfigureModal } from './configure.js'
import { Dialog } from './dialog.js'
import { html } from './html.js'
import { Marketplace } from './marketplace.js'
import { Testing } from './testing.js'

const VIEWS = [
  ['marketplace', 'Marketplace'],
  ['active', 'Active connectors'],
  ['testing', 'Testing'],
]

function SignIn({ onSignedIn, error: initialError }) {
  const [token, setToken] = useState('')
  const [error, setError] = useState(initialError)
  const submit = async (e) => {
    e.preventDefault()
    try {
      await signIn(token.trim())
      onSignedIn()
    } catch (err) {
      setError(err.status === 401 ? 'That is not this server\'s token.' : err.message)
    }
  }
  return html`<main class="signin"><h1>Mobigen connectors</h1>
    <form onSubmit=${submit}>
      <div class="field"><label for="token">Dashboard token</label>
        <input id="token" type="password" autocomplete="off" value=${token} aria-describedby="token-hint${error ? ' token-error' : ''}"
          onInput=${(e) => setToken(e.currentTarget.value)} />
        <p class="hint" id="token-hint">The server printed a dashboard link with its token when it started (or set MOBIGEN_DASHBOARD_TOKEN).</p>
        ${error ? html`<p class="field-error" id="token-error">${error}</p>` : ''}</div>
      <button type="submit">Sign in</button>
    </form></main>`
}

function RemoveDialog({ projectId, connectorId, name, onClose, onDone }) {
  const [plan, setPlan] = useState(null)
  const [error, setError] = useState(null)
  const [busy, setBusy] = useState(false)
  useEffect(() => {
    api.planRemove(projectId, connectorId).then(setPlan, (e) => setError(e.message))
  }, [])
  const confirm = async () => {
    setBusy(true)
    try {
      await api.remove(projectId, connectorId)
      onDone(`${name} was removed from ${projectId}.`)
    } catch (e) {
      setError(e.message)
      setBusy(false)
    }
  }
  return html`<${Dialog} title=${`Remove ${name}`} onClose=${onClose} wide>
    ${error ? html`<div class="alert" role="alert">${error}</div>` : ''}
    ${plan
      ? html`<p>${plan.codeChanges.summary}: ${plan.codeChanges.filesDeleted} files deleted, ${plan.codeChanges.filesModified} changed. Its stored credentials are deleted too.</p>
        <h3 id="remove-diff-title">Changes to the project</h3>
        <pre class="diff" tabindex="0" aria-labelledby="remove-diff-title">${plan.diff.split('\n').map((line) => html`<span class=${line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : ''}>${line}\n</span>`)}</pre>
        ${plan.codeChanges.manualSteps.length ? html`<h3>Manual steps</h3><ol>${plan.codeChanges.manualSteps.map((s) => html`<li>${s}</li>`)}</ol>` : ''}`
      : error ? '' : html`<p role="status">Preparing the preview…</p>`}
    <div class="actions">
      <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      <button type="button" class="danger" disabled=${!plan || busy} onClick=${confirm}>Remove ${name}</button>
    </div>
  </${Dialog}>`
}

function Dashboard({ onSignOut }) {
  const [projects, setProjects] = useState(null)
  const [projectId, setProjectId] = useState('')
  const [project, setProject] = useState(null)
  const [names, setNames] = useState({})
  const [view, setView] = useState('marketplace')
  const [modal, setModal] = useState(null)
  const [testTarget, setTestTarget] = useState(null)
  const [message, setMessage] = useState('')
  const [error, setError] = useState(null)

  useEffect(() => {
    api.projects().then((p) => {
      setProjects(p.projects)
      const fromUrl = new URLSearchParams(location.search).get('project')
      setProjectId(p.projects.some((x) => x.id === fromUrl) ? fromUrl : p.projects[0]?.id ?? '')
    }, (e) => setError(e.message))
    api.connectors().then((list) => setNames(Object.fromEntries(list.connectors.map((c) => [c.id, c.name]))), () => {})
  }, [])
  const refresh = () => {
    if (!projectId) return Promise.resolve()
    return api.project(projectId).then(setProject, (e) => setError(e.message))
  }
  useEffect(() => {
    setProject(null)
    refresh()
  }, [projectId])

  const enabled = project ? project.instances.filter((i) => i.status !== 'removed').map((i) => i.connector) : []
  const done = (text) => {
    setModal(null)
    setMessage(text)
    refresh()
    setView('active')
    // What opened the modal may be gone (an "Add" card, a removed connector): the focus goes
    // to the screen's heading, after the message that says what happened.
    setTimeout(() => document.getElementById('active-title')?.focus(), 0)
  }
  const onAction = async (action, connectorId) => {
    const name = names[connectorId] ?? connectorId
    setError(null)
    if (action === 'configure' || action === 'rotate') setModal({ kind: action, connectorId })
    else if (action === 'remove') setModal({ kind: 'remove', connectorId })
    else if (action === 'test') {
      setMessage('')
      setTestTarget(connectorId)
      setView('testing')
      setTimeout(() => document.getElementById('testing-title')?.focus(), 0)
    } else {
      try {
        if (action === 'validate') {
          const report = await api.test(projectId, connectorId)
          setMessage(report.success ? `${name}: the credentials are valid.` : `${name}: validation failed: ${report.steps.filter((s) => !s.passed).map((s) => s.details ?? s.name).join('; ')}`)
        } else {
          await (action === 'enable' ? api.enable(projectId, connectorId) : api.disable(projectId, connectorId))
          setMessage(`${name} is ${action === 'enable' ? 'enabled' : 'disabled'}.`)
        }
      } catch (e) {
        setError(e.message)
      }
      refresh()
    }
  }

  let screen
  if (!projectId) screen = html`<p>${projects === null ? 'Loading projects…' : 'No projects: put Expo apps in the server\'s projects folder.'}</p>`
  else if (view === 'marketplace') {
    screen = html`<${Marketplace} enabled=${enabled} onAdd=${(id) => setModal({ kind: 'add', connectorId: id })}
      onConfigure=${(id) => setModal({ kind: 'configure', connectorId: id })} />`
  } else if (view === 'active') screen = html`<${ActiveConnectors} project=${project} names=${names} onAction=${onAction} />`
  else screen = html`<${Testing} key=${`${projectId}/${testTarget}`} projectId=${projectId} connectors=${enabled} names=${names} initial=${testTarget} onRan=${refresh} />`

  return html`
    <header class="top">
      <h1>Mobigen connectors</h1>
      <div class="field inline"><label for="project">Project</label>
        <select id="project" onChange=${(e) => setProjectId(e.currentTarget.value)}>
          ${(projects ?? []).map((p) => html`<option value=${p.id} selected=${p.id === projectId}>${p.id}</option>`)}
        </select></div>
      <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
    </header>
    <nav aria-label="Screens"><ul>
      ${VIEWS.map(([id, label]) => html`<li><button type="button" class=${view === id ? 'tab current' : 'tab'} aria-current=${view === id ? 'page' : undefined}
        onClick=${() => { setMessage(''); setView(id) }}>${label}</button></li>`)}
    </ul></nav>
    <main>
      <div class="live" role="status" aria-live="polite">${message}</div>
      ${error ? html`<div class="alert" role="alert">${error}</div>` : ''}
      ${screen}
    </main>
    ${modal && modal.kind !== 'remove'
      ? html`<${ConfigureModal} key=${`${modal.kind}/${modal.connectorId}`} projectId=${projectId} connectorId=${modal.connectorId} mode=${modal.kind}
        onClose=${() => setModal(null)} onDone=${done} />`
      : ''}
    ${modal?.kind === 'remove'
      ? html`<${RemoveDialog} projectId=${projectId} connectorId=${modal.connectorId} name=${names[modal.connectorId] ?? modal.connectorId}
        onClose=${() => setModal(null)} onDone=${done} />`
      : ''}`
}

function App() {
  const [state, setState] = useState('checking')
  const [error, setError] = useState(null)
  useEffect(() => {
    (async () => {
      // A link with `#token=...` signs in once; the token leaves the address bar at once.
      const token = new URLSearchParams(location.hash.slice(1)).get('token')
      if (token) {
        history.replaceState(null, '', location.pathname + location.search)
        try {
          await signIn(token)
          setState('in')
          return
        } catch (e) {
          setError(e.status === 401 ? 'The token in the link is not this server\'s token.' : e.message)
        }
      }
      setState((await resumeSession().catch(() => false)) ? 'in' : 'out')
    })()
  }, [])
  if (state === 'checking') return html`<p class="loading" role="status">Signing in…</p>`
  if (state === 'out') return html`<${SignIn} error=${error} onSignedIn=${() => setState('in')} />`
  return html`<${Dashboard} onSignOut=${async () => { await signOut().catch(() => {}); setState('out') }} />`
}

render(html`<${App} />`, document.getElementById('app'))
