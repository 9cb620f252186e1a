//! Prints every case of a Cases domain with its fields, related items and audit trail (who made
//! each change), read through the AWS SDK. `make demo` runs it against the local Cases service:
//!
//!     cargo run --example cases_report -- --endpoint http://127.0.0.1:4566 --domain demo-domain

use std::collections::HashMap;

use aws_sdk_connectcases::Client;
use aws_sdk_connectcases::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_connectcases::types::{FieldIdentifier, FieldValueUnion, RelatedItemContent, UserUnion};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The Cases endpoint (the local Cases service).
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    endpoint: String,
    #[arg(long, default_value = "demo-domain")]
    domain: String,
}

type Error = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args = Args::parse();
    let config = aws_sdk_connectcases::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "static"))
        .endpoint_url(&args.endpoint)
        .build();
    let client = Client::from_conf(config);
    let domain = args.domain.as_str();

    let fields = client.list_fields().domain_id(domain).max_results(100).send().await?;
    let names: HashMap<String, String> = fields.fields().iter().map(|f| (f.field_id().to_owned(), f.name().to_owned())).collect();
    let templates = client.list_templates().domain_id(domain).max_results(100).send().await?;
    let template_names: HashMap<String, String> =
        templates.templates().iter().map(|t| (t.template_id().to_owned(), t.name().to_owned())).collect();

    let cases = client
        .search_cases()
        .domain_id(domain)
        .max_results(100)
        .sorts(aws_sdk_connectcases::types::Sort::builder().field_id("created_datetime").sort_order("Asc".into()).build()?)
        .send()
        .await?;
    println!("{} cases in domain {domain}\n", cases.cases().len());
    for case in cases.cases().iter().flatten() {
        let id = case.case_id();
        let mut request = client.get_case().domain_id(domain).case_id(id);
        for field_id in names.keys() {
            request = request.fields(FieldIdentifier::builder().id(field_id).build()?);
        }
        let detail = request.send().await?;
        let template = template_names.get(detail.template_id()).map(String::as_str).unwrap_or(detail.template_id());
        println!("case {id}  (template: {template})");
        let mut values: Vec<(String, String)> = detail
            .fields()
            .iter()
            .filter(|f| !matches!(f.id(), "case_id" | "last_updated_datetime" | "last_updated_user"))
            .map(|f| (names.get(f.id()).cloned().unwrap_or_else(|| f.id().to_owned()), f.value().map(show).unwrap_or_default()))
            .collect();
        values.sort();
        for (name, value) in values {
            println!("    {name:<20} {value}");
        }

        let items = client.search_related_items().domain_id(domain).case_id(id).max_results(25).send().await?;
        for item in items.related_items().iter().flatten() {
            let what = match item.content() {
                Some(RelatedItemContent::Contact(c)) => format!("contact  {}", c.contact_arn().rsplit('/').next().unwrap_or_default()),
                Some(RelatedItemContent::Comment(c)) => format!("comment  \"{}\"", c.body()),
                Some(RelatedItemContent::Sla(s)) => {
                    let sla = s.sla_configuration();
                    sla.map(|s| format!("sla      \"{}\" due {} ({})", s.name(), s.target_time(), s.status())).unwrap_or_default()
                }
                Some(RelatedItemContent::File(f)) => format!("file     {}", f.file_arn()),
                Some(RelatedItemContent::ConnectCase(c)) => format!("case     linked to {}", c.case_id()),
                Some(RelatedItemContent::Custom(c)) => format!("custom   {} fields", c.fields().len()),
                _ => "other".into(),
            };
            println!("  + {what}  by {}", item.performed_by().map(performer).unwrap_or_else(|| "-".into()));
        }

        let audit = client.get_case_audit_events().domain_id(domain).case_id(id).max_results(25).send().await?;
        for event in audit.audit_events().iter().flatten() {
            let who = event.performed_by().and_then(|p| p.user()).map(performer).unwrap_or_else(|| "-".into());
            let changed: Vec<String> = event
                .fields()
                .iter()
                .flatten()
                .map(|f| names.get(f.event_field_id()).cloned().unwrap_or_else(|| f.event_field_id().to_owned()))
                .collect();
            let related = event.related_item_type().map(|t| format!(" {t}")).unwrap_or_default();
            println!("  audit {} {}{related} by {who} {}", event.performed_time(), event.r#type(), summary(&changed));
        }
        println!();
    }
    Ok(())
}

fn show(value: &FieldValueUnion) -> String {
    match value {
        FieldValueUnion::StringValue(s) => s.clone(),
        FieldValueUnion::DoubleValue(n) => n.to_string(),
        FieldValueUnion::BooleanValue(b) => b.to_string(),
        FieldValueUnion::UserArnValue(u) => u.clone(),
        FieldValueUnion::EmptyValue(_) => "(empty)".into(),
        _ => "?".into(),
    }
}

fn performer(user: &UserUnion) -> String {
    match user {
        UserUnion::CustomEntity(name) => format!("customEntity={name}"),
        UserUnion::UserArn(arn) => format!("user={}", arn.rsplit('/').next().unwrap_or(arn)),
        _ => "?".into(),
    }
}

fn summary(changed: &[String]) -> String {
    if changed.is_empty() { String::new() } else { format!("[{}]", changed.join(", ")) }
}
