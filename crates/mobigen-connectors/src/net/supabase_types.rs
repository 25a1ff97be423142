//! Supabase types.
