// Rows of a Supabase table in a scrolling list, with pull to refresh. Columns default to those
// of the first row. Row-level security applies: the user sees what the policies allow.
import { useCallback, useEffect, useState } from 'react';
//#if nativewind
import { FlatList, Text, View } from 'react-native';
//#else
import { FlatList, StyleSheet, Text, View } from 'react-native';
//#endif

import { supabase } from '../../services/supabase';
import type { Row, TableName } from '../../types/supabase';

export type DataTableProps<Name extends TableName> = {
  table: Name;
  columns?: string[];
  /** Maximum number of rows fetched. */
  limit?: number;
};

function show(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The text of one column of a row (any table: not every table has every column). */
function cell(row: object, column: string): string {
  return show((row as Record<string, unknown>)[column]);
}

export function DataTable<Name extends TableName>({ table, columns, limit = 50 }: DataTableProps<Name>) {
  const [rows, setRows] = useState<Row<Name>[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setLoading(true);
    setError(null);
    const { data, error: failure } = await supabase.from(table as TableName).select('*').limit(limit);
    if (failure) setError(failure.message);
    else setRows((data ?? []) as Row<Name>[]);
    setLoading(false);
  }, [table, limit]);

  useEffect(() => {
    load();
  }, [load]);

  const shown = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  return (
    <FlatList
      data={rows}
      keyExtractor={(row, index) => cell(row, 'id') || String(index)}
      refreshing={loading}
      onRefresh={load}
      ListHeaderComponent={
//#if nativewind
        <View className="flex-row border-b border-gray-300 py-2">
          {shown.map((column) => (
            <Text key={column} className="flex-1 font-semibold">{column}</Text>
          ))}
        </View>
//#else
        <View style={styles.row}>
          {shown.map((column) => (
            <Text key={column} style={[styles.cell, styles.header]}>{column}</Text>
          ))}
        </View>
//#endif
      }
      ListEmptyComponent={
//#if nativewind
        <Text className="p-4 text-center text-gray-500">{error ?? (loading ? 'Loading…' : 'No rows.')}</Text>
//#else
        <Text style={styles.empty}>{error ?? (loading ? 'Loading…' : 'No rows.')}</Text>
//#endif
      }
      renderItem={({ item }) => (
//#if nativewind
        <View className="flex-row border-b border-gray-100 py-2">
          {shown.map((column) => (
            <Text key={column} className="flex-1" numberOfLines={1}>{cell(item, column)}</Text>
          ))}
        </View>
//#else
        <View style={styles.row}>
          {shown.map((column) => (
            <Text key={column} style={styles.cell} numberOfLines={1}>{cell(item, column)}</Text>
          ))}
        </View>
//#endif
      )}
    />
  );
}
//#if !nativewind

const styles = StyleSheet.create({
  row: { borderBottomColor: '#e5e7eb', borderBottomWidth: 1, flexDirection: 'row', paddingVertical: 8 },
  cell: { flex: 1 },
  header: { fontWeight: '600' },
  empty: { color: '#6b7280', padding: 16, textAlign: 'center' },
});
//#endif
