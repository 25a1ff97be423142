// Types of the Supabase database, for `createClient<Database>`.
//#if supplied.databaseTypes
// The `Database` type comes from the project's live schema (supabase-database.ts, fetched when
// the connector was added: `mobigen-connect add supabase --fetch databaseTypes`).
import type { Database } from './supabase-database';

export type { Database, Json } from './supabase-database';

/** The tables listed in the connector's config. */
export const TABLE_NAMES = {%json /features/database/tables%} as const;

/** The tables of the project's public schema. */
export type TableName = keyof Database['public']['Tables'] & string;
//#else
// The tables come from the connector's config; their columns are placeholders (an `id` plus any
// column) until real types are fetched from the project
// (`mobigen-connect add supabase --fetch databaseTypes`).

/** The tables listed in the connector's config. */
export const TABLE_NAMES = {%json /features/database/tables%} as const;

export type TableName = (typeof TABLE_NAMES)[number];

export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

/** Placeholder row: replace with the generated types for exact columns. */
export type PlaceholderRow = { id: string | number; [column: string]: Json | undefined };

type PlaceholderTable = {
  Row: PlaceholderRow;
  Insert: { [column: string]: Json | undefined };
  Update: { [column: string]: Json | undefined };
  Relationships: [];
};

export type Database = {
  public: {
    Tables: { [Name in TableName]: PlaceholderTable };
    Views: { [_ in never]: never };
    Functions: { [_ in never]: never };
    Enums: { [_ in never]: never };
    CompositeTypes: { [_ in never]: never };
  };
};
//#endif

/** The row type of a table. */
export type Row<Name extends TableName> = Database['public']['Tables'][Name]['Row'];
