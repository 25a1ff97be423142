// htm bound to Preact's `h`: JSX-like templates without a compile step of their own.
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)

/** `publishableKey` -> `Publishable key`. */
export function humanize(name) {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The logo we drew for a connector (a generic one for connectors loaded at run time). */
export function logoOf(id) {
  return ['stripe', 'firebase', 'supabase', 'revenuecat', 'onesignal'].includes(id) ? `logos/${id}.svg` : 'logos/generic.svg'
}

/** Whole days from `iso` to now (negative: in the past). */
export function daysFromNow(iso) {
  return Math.round((Date.parse(iso) - Date.now()) / 86400000)
}

const CATEGORIES = { iap: 'In-app purchases', auth: 'Authentication', push: 'Push notifications' }

/** A category's name for people. */
export function categoryName(category) {
  return CATEGORIES[category] ?? humanize(category)
}
