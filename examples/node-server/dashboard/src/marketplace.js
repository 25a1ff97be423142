// The marketplace: every registered connector, a category filter and the library's ranked,
// typo-tolerant search ("strpe" finds Stripe).
import { useEffect, useState } from 'preact/hooks'
import { api } from './api.js'
import { categoryName, html, logoOf } from './html.js'

const POPULAR = new Set(['stripe', 'firebase', 'supabase'])

export function Marketplace({ enabled, onAdd, onConfigure }) {
  const [all, setAll] = useState([])
  const [shown, setShown] = useState(null)
  const [query, setQuery] = useState('')
  const [category, setCategory] = useState('')
  const [error, setError] = useState(null)

  useEffect(() => {
    api.connectors().then((list) => setAll(list.connectors), (e) => setError(e.message))
  }, [])
  useEffect(() => {
    const timer = setTimeout(() => {
      api.connectors(category || undefined, query.trim() || undefined).then((list) => setShown(list.connectors), (e) => setError(e.message))
    }, 150)
    return () => clearTimeout(timer)
  }, [query, category])

  const categories = [...new Set(all.map((c) => c.category))].sort()
  return html`<section aria-labelledby="market-title">
    <h2 id="market-title" tabindex="-1">Marketplace</h2>
    <div class="filters" role="search">
      <div class="field inline"><label for="search">Search connectors</label>
        <input id="search" type="search" value=${query} placeholder="e.g. payments, strpe" onInput=${(e) => setQuery(e.currentTarget.value)} /></div>
      <div class="field inline"><label for="category">Category</label>
        <select id="category" onChange=${(e) => setCategory(e.currentTarget.value)}>
          <option value="">All categories</option>
          ${categories.map((c) => html`<option value=${c} selected=${c === category}>${categoryName(c)}</option>`)}
        </select></div>
    </div>
    ${error ? html`<div class="alert" role="alert">${error}</div>` : ''}
    <p class="count" role="status">${shown === null ? 'Loading…' : `${shown.length} connector${shown.length === 1 ? '' : 's'}`}</p>
    <ul class="grid">
      ${(shown ?? []).map((c) => {
        const has = enabled.includes(c.id)
        return html`<li><article class="card" aria-labelledby=${`card-${c.id}`}>
          <div class="card-head"><img src=${logoOf(c.id)} alt="" width="40" height="40" />
            <h3 id=${`card-${c.id}`}>${c.name}</h3></div>
          <p class="badges"><span class="badge">${categoryName(c.category)}</span>
            <span class="badge plain">Setup: ${c.setupDifficulty}</span>
            ${POPULAR.has(c.id) ? html`<span class="badge popular">Popular</span>` : ''}
            ${c.setupDifficulty === 'easy' ? html`<span class="badge recommended">Recommended</span>` : ''}
            ${has ? html`<span class="badge ok">In this project</span>` : ''}</p>
          <p class="description">${c.description}</p>
          <button type="button" class=${has ? 'secondary' : ''} aria-label=${`${has ? 'Configure' : 'Add'} ${c.name}`}
            onClick=${() => (has ? onConfigure(c.id) : onAdd(c.id))}>${has ? 'Configure' : 'Add'}</button>
        </article></li>`
      })}
    </ul>
  </section>`
}
