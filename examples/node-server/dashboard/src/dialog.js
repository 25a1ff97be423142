// A modal dialog on the native <dialog> element: showModal() makes the rest of the page inert
// (focus stays inside), Escape closes it, and focus goes back to what opened it.
import { useEffect, useRef } from 'preact/hooks'
import { html } from './html.js'

export function Dialog({ title, onClose, children, wide = false }) {
  const ref = useRef(null)
  useEffect(() => {
    const opener = document.activeElement
    const dialog = ref.current
    dialog.showModal()
    const first = dialog.querySelector('[data-autofocus]') ?? dialog.querySelector('h2')
    first?.focus()
    return () => {
      if (dialog.open) dialog.close()
      if (opener && document.contains(opener)) opener.focus()
    }
  }, [])
  const onCancel = (event) => {
    event.preventDefault()
    onClose()
  }
  return html`
    <dialog ref=${ref} class=${wide ? 'modal wide' : 'modal'} aria-labelledby="dialog-title" onCancel=${onCancel}>
      <div class="modal-head">
        <h2 id="dialog-title" tabindex="-1">${title}</h2>
        <button type="button" class="icon" aria-label="Close" onClick=${onClose}>×</button>
      </div>
      ${children}
    </dialog>`
}
