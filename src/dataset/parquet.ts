/**
 * The few Parquet shapes a LeRobot dataset needs, written with hyparquet-writer and read with
 * hyparquet (pure JavaScript, maintained by the same project; snappy built in). Scalars are
 * OPTIONAL columns as pyarrow writes them; vectors are 3-level LIST columns
 * (`<name>` LIST → `list` REPEATED → `element`), the standard layout pyarrow writes and HF
 * `datasets` casts to a fixed-length Sequence when the features say so.
 */
import { readFile } from 'node:fs/promises';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer, type ColumnSource, type SchemaElement } from 'hyparquet-writer';

export type ColumnKind = 'float32' | 'float64' | 'int64' | 'string' | 'bool' | 'float32[]' | 'float64[]' | 'int64[]' | 'string[]';

export interface Column {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Scalars: numbers (bigint for int64), strings or booleans; lists: arrays of those. */
  readonly data: readonly unknown[];
}

const PHYSICAL: Record<string, Omit<SchemaElement, 'name'>> = {
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
  int64: { type: 'INT64' },
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  bool: { type: 'BOOLEAN' },
};

function schemaOf(columns: readonly Column[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) {
    const base = c.kind.replace('[]', '');
    if (c.kind.endsWith('[]')) {
      schema.push({ name: c.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 });
      schema.push({ name: 'list', repetition_type: 'REPEATED', num_children: 1 });
      schema.push({ name: 'element', repetition_type: 'OPTIONAL', ...PHYSICAL[base]! });
    } else schema.push({ name: c.name, repetition_type: 'OPTIONAL', ...PHYSICAL[base]! });
  }
  return schema;
}

/** Encodes a table as a Parquet file (snappy). `kv` adds key/value metadata (e.g. pandas' index). */
export function parquetBytes(columns: readonly Column[], kv: Record<string, string> = {}): Uint8Array {
  const rows = columns[0]?.data.length ?? 0;
  for (const c of columns) if (c.data.length !== rows) throw new RangeError(`column ${c.name} has ${c.data.length} rows, not ${rows}`);
  const columnData: ColumnSource[] = columns.map((c) => ({ name: c.name, data: c.data as ColumnSource['data'] }));
  const buffer = parquetWriteBuffer({
    columnData,
    schema: schemaOf(columns),
    kvMetadata: Object.entries(kv).map(([key, value]) => ({ key, value })),
    createdBy: 'armbridge (hyparquet-writer)',
    rowGroupSize: 100_000,
  });
  return new Uint8Array(buffer);
}

export interface ParquetTable {
  readonly rows: Record<string, unknown>[];
  readonly numRows: number;
}

/** Reads a whole Parquet file (selected columns) into row objects (int64 as bigint, lists as arrays). */
export async function readParquet(path: string, columns?: readonly string[]): Promise<ParquetTable> {
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const metadata = parquetMetadata(file);
  const rows = await parquetReadObjects({ file, columns: columns ? [...columns] : undefined, metadata });
  return { rows: rows as Record<string, unknown>[], numRows: Number(metadata.num_rows) };
}
