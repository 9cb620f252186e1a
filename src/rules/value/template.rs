//! Templates in values (Jinja syntax, `minijinja`): the environment they compile and render in,
//! when they are compiled, what they see of the event, and the fuel, depth and output limits of
//! one render.

use minijinja::Environment;
use serde_json::Value;

use super::field::{ExtractError, Limit};

/// Instructions one render may run: far more than any template over one event needs, little
/// enough that a runaway one (nested loops) fails in milliseconds instead of stalling the
/// invocation and its SQS batch.
pub const TEMPLATE_FUEL: u64 = 100_000;

/// How deep a render may nest (loops over nested event data, expressions).
pub const TEMPLATE_RECURSION_LIMIT: usize = 64;

/// The event as templates see it: its own top-level keys, plus `event` for keys that are not
/// identifiers (e.g. `event["detail-type"]`). Built once per event and shared by every template.
pub struct TemplateContext(minijinja::Value);

impl TemplateContext {
    pub fn new(event: &Value) -> TemplateContext {
        let mut root = match event {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        root.insert("event".into(), event.clone());
        TemplateContext(minijinja::Value::from_serialize(&root))
    }
}

/// When the templates of values are compiled.
pub enum TemplateCheck<'a> {
    /// Now, into this environment: a template with a syntax error fails the load (rules files).
    Now(&'a Environment<'static>),
    /// On first render: the shipped default rules, whose templates a test compiles. An instance
    /// then compiles only the templates of the rules its events match.
    OnFirstUse,
}

/// Renders the template named `text` into at most `limit` characters, within the environment's
/// fuel and recursion limits.
pub(super) fn render_within(env: &Environment<'static>, text: &str, ctx: &TemplateContext, limit: Limit) -> Result<String, ExtractError> {
    let failed = |e: &minijinja::Error| ExtractError::Template { source: text.to_owned(), reason: template_reason(e) };
    let template = env.get_template(text).map_err(|e| failed(&e))?;
    let mut out = CappedOutput { bytes: Vec::new(), chars: 0, max_chars: limit.chars, overflowed: false };
    match template.render_captured_to(&ctx.0, &mut out) {
        Ok(_) => Ok(String::from_utf8(out.bytes).expect("templates write whole strings")),
        Err(_) if out.overflowed => Err(ExtractError::TooLong { source: text.to_owned(), limit }),
        Err(e) => Err(failed(&e)),
    }
}

/// A template's output, refusing to grow past `max_chars` characters.
struct CappedOutput {
    bytes: Vec<u8>,
    chars: usize,
    max_chars: usize,
    overflowed: bool,
}

impl std::io::Write for CappedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // Characters are counted by their first bytes, so pieces split anywhere count right.
        self.chars += buf.iter().filter(|b| (**b & 0xC0) != 0x80).count();
        if self.chars > self.max_chars {
            self.overflowed = true;
            return Err(std::io::Error::other("the template's output is longer than its place takes"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn template_reason(error: &minijinja::Error) -> String {
    if error.kind() == minijinja::ErrorKind::OutOfFuel {
        return format!("it takes more than the {TEMPLATE_FUEL} steps a template may run (a loop too large for one event?)");
    }
    match error.detail() {
        Some(detail) => format!("{} ({detail})", error.kind()),
        None => error.kind().to_string(),
    }
}

/// Templates are loaded from their names, which are their texts (see `add_template`); they fail
/// on undefined variables instead of rendering them empty, and never escape: they make plain-text
/// field values, and a name ending in `.html` or `.json` would otherwise switch escaping on. Each
/// render runs within `TEMPLATE_FUEL` steps and `TEMPLATE_RECURSION_LIMIT` levels: templates run
/// synchronously, so a runaway one would otherwise hold the thread that also runs the deadline
/// timer and the other records of an SQS batch.
pub fn template_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(|name| Ok(Some(name.to_owned())));
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(TEMPLATE_RECURSION_LIMIT);
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::value::{CompiledValue, FieldValue, ValueSpec};
    use serde_json::json;

    fn compile(spec: Value) -> (CompiledValue, Environment<'static>) {
        let env = template_environment();
        let spec: ValueSpec = serde_json::from_value(spec).unwrap();
        let compiled = spec.compile(&TemplateCheck::Now(&env)).unwrap();
        (compiled, env)
    }

    #[test]
    fn templates_compile_once_on_first_use_and_nothing_is_escaped() {
        let event = json!({"detail": {"page": "<b>Q&A</b>"}});
        let env = template_environment();
        // Ends in `.html`: minijinja's default would escape a template named like that.
        let text = json!("{{ detail.page }} in index.html");
        let specs: Vec<ValueSpec> = (0..2).map(|_| serde_json::from_value(text.clone()).unwrap()).collect();
        let compiled: Vec<_> = specs.iter().map(|spec| spec.compile(&TemplateCheck::OnFirstUse).unwrap()).collect();
        assert_eq!(env.templates().count(), 0, "nothing is compiled before a render");
        for value in compiled {
            let rendered = value.extract(&event, &env, &TemplateContext::new(&event), Limit::FIELD_VALUE);
            assert_eq!(rendered, Ok(Some(FieldValue::String("<b>Q&A</b> in index.html".into()))));
        }
        assert_eq!(env.templates().count(), 1, "one compiled template serves both values");
        // Unchecked, a broken template fails when it renders, naming itself.
        let broken: ValueSpec = serde_json::from_value(json!("{{ unclosed")).unwrap();
        let broken = broken.compile(&TemplateCheck::OnFirstUse).unwrap();
        let err = broken.extract(&event, &env, &TemplateContext::new(&event), Limit::FIELD_VALUE).unwrap_err();
        assert!(matches!(&err, ExtractError::Template { source, .. } if source == "{{ unclosed"), "{err:?}");
    }

    #[test]
    fn runaway_templates_stop_within_their_fuel_depth_and_output_limits() {
        let deep = (0..200).fold(json!("leaf"), |inner, _| json!({"children": [inner]}));
        let event = json!({"detail": {"items": [1, 2, 3], "tree": deep}});
        let text = |spec: &str, limit: Limit| {
            let (compiled, env) = compile(json!(spec));
            compiled.extract_string(&event, &env, &TemplateContext::new(&event), limit)
        };
        // Nested loops of 10^10 steps: out of fuel at once, named as such.
        let started = std::time::Instant::now();
        let heavy = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        let error = text(heavy, Limit::COMMENT).unwrap_err();
        assert!(error.to_string().contains(&format!("more than the {TEMPLATE_FUEL} steps")), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "stopped early: {:?}", started.elapsed());
        // Output: up to the limit, and not a character more.
        let exactly = format!("{{% for i in range({}) %}}é{{% endfor %}}", Limit::FIELD_VALUE.chars);
        assert_eq!(text(&exactly, Limit::FIELD_VALUE).unwrap().map(|s| s.chars().count()), Some(4_100));
        let over = format!("{{% for i in range({}) %}}é{{% endfor %}}", Limit::FIELD_VALUE.chars + 1);
        let error = text(&over, Limit::FIELD_VALUE).unwrap_err();
        assert_eq!(error, ExtractError::TooLong { source: over.clone(), limit: Limit::FIELD_VALUE });
        assert!(error.to_string().contains("more than 4100 characters, the most a field value takes"), "{error}");
        assert!(text(&over, Limit::COMMENT).is_ok(), "a comment takes more");
        // One step of the engine that writes a lot (a repeated string) is stopped by the cap too.
        let error = text("{{ 'x' * 1000000 }}", Limit::COMMENT).unwrap_err();
        assert!(matches!(error, ExtractError::TooLong { .. }), "{error}");
        // Recursion over nested event data stops at the depth limit.
        let recursive = "{% for node in [detail.tree] recursive %}{% if node.children %}{{ loop(node.children) }}{% else %}{{ node }}{% endif %}{% endfor %}";
        let error = text(recursive, Limit::COMMENT).unwrap_err();
        assert!(error.to_string().contains("recursion"), "{error}");
        // Everyday templates are untouched.
        assert_eq!(text("{{ detail.items | join(',') }}", Limit::IDENTIFIER), Ok(Some("1,2,3".into())));
    }
}
