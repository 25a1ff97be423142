//! The `Database` TypeScript types of a Supabase project, for the app's Supabase types file.
//!
//! Two sources, chosen by the config: the Management API's types endpoint with an access token
//! (`managementToken`, or an OAuth token) gives exactly what `supabase gen types` gives; without
//! one, the PostgREST OpenAPI (Swagger 2.0) document read with the secret key (`serviceRoleKey`)
//! is converted here. The OpenAPI document does not say which columns are nullable: a column is
//! typed non-null in `Row` when it is required on insert or is a primary key, and `T | null`
//! otherwise; views cannot be told from tables and are listed as tables.
//!
//! The text feeds the Supabase connector's supplied file `databaseTypes`
//! (`src/types/supabase-database.ts`): fetch it with [`super::fetch_supplied`] and give it to
//! `plan::plan_add_supplied` / `ops::add_supplied` (the CLI: `add supabase --fetch
//! databaseTypes`); the connector's `src/types/supabase.ts` then re-exports it instead of its
//! placeholder types.

use std::fmt::Write as _;

use serde_json::Value;

use super::http::{Method, Outgoing};
use super::mask::Masker;
use super::{NetEngine, NetError};
use crate::catalog::config::ValidConfig;

/// Where the types come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TypesSource {
    /// The Management API types endpoint (needs `managementToken`).
    ManagementApi,
    /// The OpenAPI document of the project's REST API (needs `serviceRoleKey`).
    OpenApi,
}

/// The string at `pointer`: the secret itself for a secret field, else the plain value.
fn config_str<'a>(config: &'a ValidConfig, pointer: &str) -> Option<&'a str> {
    match config.secret(pointer) {
        Some(secret) => secret.expose_str(),
        None => config.redacted().pointer(pointer).and_then(Value::as_str),
    }
}

/// The project ref: the first label of a `https://<ref>.supabase.co` URL.
fn project_ref(project_url: &str) -> Option<String> {
    let url = url::Url::parse(project_url).ok()?;
    let host = url.host_str()?;
    let (first, rest) = host.split_once('.')?;
    (rest == "supabase.co" && !first.is_empty()).then(|| first.to_string())
}

/// Fetches the project's schema and returns the TypeScript module text, choosing the Management
/// API when the config has `managementToken` and the OpenAPI document otherwise.
///
/// # Errors
/// [`NetError::Config`] when the config has neither credential (or the project ref cannot be
/// read from a custom-domain URL), [`NetError::Status`] when the service refuses (the message is
/// masked), [`NetError::EndpointRefused`] / [`NetError::Transport`] for unreachable endpoints and
/// [`NetError::InvalidResponse`] for an unexpected answer.
pub async fn generate_types(engine: &NetEngine, config: &ValidConfig) -> Result<String, NetError> {
    let source = if config_str(config, "/managementToken").is_some() {
        TypesSource::ManagementApi
    } else {
        TypesSource::OpenApi
    };
    generate_types_from(engine, config, source).await
}

/// [`generate_types`] from a chosen source.
///
/// # Errors
/// As [`generate_types`].
pub async fn generate_types_from(
    engine: &NetEngine,
    config: &ValidConfig,
    source: TypesSource,
) -> Result<String, NetError> {
    let options = engine.options();
    let project_url = config_str(config, "/projectUrl").ok_or_else(|| NetError::Config {
        field: "/projectUrl".into(),
        reason: "missing".into(),
    })?;
    let mut masker = Masker::default();
    let (service, url, headers, field) = match source {
        TypesSource::ManagementApi => {
            let token = config_str(config, "/managementToken").ok_or_else(|| NetError::Config {
                field: "/managementToken".into(),
                reason: "the Management API needs an access token".into(),
            })?;
            masker.add(token);
            let reference = project_ref(project_url).ok_or_else(|| NetError::Config {
                field: "/projectUrl".into(),
                reason: "the project ref cannot be read from this URL (expected \
                         https://<ref>.supabase.co); generate the types from the OpenAPI \
                         document with the secret key instead"
                    .into(),
            })?;
            let base = options
                .api_base_override("supabase.management")
                .unwrap_or("https://api.supabase.com");
            (
                "supabase.management",
                format!("{base}/v1/projects/{reference}/types/typescript?included_schemas=public"),
                vec![("Authorization".to_string(), format!("Bearer {token}"))],
                "/managementToken",
            )
        }
        TypesSource::OpenApi => {
            let key = config_str(config, "/serviceRoleKey").ok_or_else(|| NetError::Config {
                field: "/serviceRoleKey".into(),
                reason: "the OpenAPI document can only be read with the secret (service_role) key"
                    .into(),
            })?;
            masker.add(key);
            let base = options
                .api_base_override("supabase")
                .unwrap_or(project_url)
                .trim_end_matches('/');
            let mut headers = vec![("apikey".to_string(), key.to_string())];
            if key.starts_with("eyJ") {
                headers.push(("Authorization".to_string(), format!("Bearer {key}")));
            }
            (
                "supabase",
                format!("{base}/rest/v1/"),
                headers,
                "/serviceRoleKey",
            )
        }
    };
    let url = url::Url::parse(&url).map_err(|e| NetError::Config {
        field: "/projectUrl".into(),
        reason: e.to_string(),
    })?;
    let outgoing = Outgoing {
        method: Method::Get,
        url,
        headers,
        body: None,
        allow_local: options.allows_local_network(service),
        idempotent: true,
    };
    let reply = engine.send(&outgoing).await?;
    let json: Option<Value> = serde_json::from_str(&reply.body).ok();
    if reply.status != 200 {
        let said = json
            .as_ref()
            .and_then(|j| j.get("message").or_else(|| j.get("hint")))
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(NetError::Status {
            status: reply.status,
            message: format!("{} (check {field})", masker.mask(said)),
        });
    }
    let json = json.ok_or_else(|| NetError::InvalidResponse("the answer is not JSON".into()))?;
    match source {
        TypesSource::ManagementApi => json
            .get("types")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| NetError::InvalidResponse("the answer has no `types` text".into())),
        TypesSource::OpenApi => typescript_from_openapi(&json),
    }
}

fn ts_key(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if plain {
        name.to_string()
    } else {
        Value::String(name.to_string()).to_string()
    }
}

fn scalar_type(format: &str, json_type: Option<&str>) -> &'static str {
    let format = format.trim();
    match format {
        "smallint" | "integer" | "bigint" | "int2" | "int4" | "int8" | "real" | "float4"
        | "float8" | "double precision" | "numeric" | "decimal" | "oid" => "number",
        "boolean" | "bool" => "boolean",
        "json" | "jsonb" => "Json",
        _ if format.starts_with("numeric") || format.starts_with("decimal") => "number",
        "" => match json_type {
            Some("integer" | "number") => "number",
            Some("boolean") => "boolean",
            _ => "string",
        },
        _ => "string",
    }
}

fn column_type(column: &Value) -> String {
    if let Some(values) = column.get("enum").and_then(Value::as_array) {
        let literals: Vec<String> = values.iter().map(Value::to_string).collect();
        if !literals.is_empty() {
            return literals.join(" | ");
        }
    }
    let format = column.get("format").and_then(Value::as_str).unwrap_or("");
    let json_type = column.get("type").and_then(Value::as_str);
    if let Some(element) = format.strip_suffix("[]") {
        return format!("{}[]", scalar_type(element, None));
    }
    if json_type == Some("array") {
        let inner = column
            .get("items")
            .map_or_else(|| "Json".to_string(), column_type);
        return if inner.contains(' ') {
            format!("({inner})[]")
        } else {
            format!("{inner}[]")
        };
    }
    scalar_type(format, json_type).to_string()
}

/// `<fk table='t' column='c'/>` in a column description.
fn foreign_key(description: &str) -> Option<(String, String)> {
    let start = description.find("<fk ")?;
    let tag = &description[start..];
    let attr = |name: &str| {
        let marker = format!("{name}='");
        let from = tag.find(&marker)? + marker.len();
        let to = tag[from..].find('\'')?;
        Some(tag[from..from + to].to_string())
    };
    Some((attr("table")?, attr("column")?))
}

/// Converts a PostgREST OpenAPI (Swagger 2.0) document into the `Database` types module.
///
/// # Errors
/// [`NetError::InvalidResponse`] when the document has no `definitions` object.
pub fn typescript_from_openapi(doc: &Value) -> Result<String, NetError> {
    let definitions = doc
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            NetError::InvalidResponse("the OpenAPI document has no definitions".into())
        })?;
    let mut tables: Vec<(&String, &Value)> = definitions.iter().collect();
    tables.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::from(
        "export type Json =\n  | string\n  | number\n  | boolean\n  | null\n  | { [key: string]: Json | undefined }\n  | Json[]\n\nexport type Database = {\n  public: {\n    Tables: {\n",
    );
    for (table, definition) in tables {
        let required: Vec<&str> = definition
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let empty = serde_json::Map::new();
        let columns = definition
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut row = String::new();
        let mut insert = String::new();
        let mut update = String::new();
        let mut relationships = String::new();
        for (name, column) in columns {
            let ty = column_type(column);
            let description = column
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("");
            let is_required = required.contains(&name.as_str());
            let not_null = is_required || description.contains("<pk/>");
            let key = ts_key(name);
            let nullable = if not_null {
                ty.clone()
            } else {
                format!("{ty} | null")
            };
            let _ = writeln!(row, "          {key}: {nullable}");
            let optional = if is_required { "" } else { "?" };
            let _ = writeln!(insert, "          {key}{optional}: {nullable}");
            let _ = writeln!(update, "          {key}?: {nullable}");
            if let Some((target, target_column)) = foreign_key(description) {
                let _ = write!(
                    relationships,
                    "          {{\n            foreignKeyName: {}\n            columns: [{}]\n            isOneToOne: false\n            referencedRelation: {}\n            referencedColumns: [{}]\n          }},\n",
                    Value::String(format!("{table}_{name}_fkey")),
                    Value::String(name.clone()),
                    Value::String(target),
                    Value::String(target_column),
                );
            }
        }
        let relationships = if relationships.is_empty() {
            "[]".to_string()
        } else {
            format!("[\n{relationships}        ]")
        };
        let _ = write!(
            out,
            "      {}: {{\n        Row: {{\n{row}        }}\n        Insert: {{\n{insert}        }}\n        Update: {{\n{update}        }}\n        Relationships: {relationships}\n      }}\n",
            ts_key(table)
        );
    }
    for group in ["Views", "Functions", "Enums", "CompositeTypes"] {
        let _ = write!(
            out,
            "{}    {group}: {{\n      [_ in never]: never\n    }}\n",
            if group == "Views" { "    }\n" } else { "" }
        );
    }
    out.push_str("  }\n}\n");
    Ok(out)
}
