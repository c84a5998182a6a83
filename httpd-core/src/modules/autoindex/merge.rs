//! `merge_autoindex_configs`: one section's mod_autoindex settings over what it inherits,
//! and [`Layers`], the settings a request's sections carry until a listing needs them merged.

use std::sync::Arc;

use super::config::*;

/// The autoindex settings of the sections a request matched, kept unmerged so that a request
/// that is no listing pays one `Arc` clone at most ([`Layers::resolve`] merges on demand).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Layers {
    #[default]
    None,
    One(Arc<AutoindexConfig>),
    Many(Vec<Arc<AutoindexConfig>>),
}

impl Layers {
    /// The section's own settings, created on first use by a directive.
    pub fn own_mut(&mut self) -> &mut AutoindexConfig {
        if let Layers::None = self {
            *self = Layers::One(Arc::new(AutoindexConfig::default()));
        }
        match self {
            Layers::One(a) => Arc::make_mut(a),
            Layers::Many(v) => {
                if v.is_empty() {
                    v.push(Arc::new(AutoindexConfig::default()));
                }
                // A section holds one layer; `Many` only appears in merged sections.
                let last = v.len() - 1;
                Arc::make_mut(&mut v[last])
            }
            Layers::None => unreachable!("set just above"),
        }
    }

    /// Append another section's layers (the merge order of the section walk).
    pub fn extend(&mut self, other: &Layers) {
        let add: &[Arc<AutoindexConfig>] = match other {
            Layers::None => return,
            Layers::One(a) => std::slice::from_ref(a),
            Layers::Many(v) => v,
        };
        match self {
            Layers::None if add.len() == 1 => *self = Layers::One(add[0].clone()),
            Layers::None => *self = Layers::Many(add.to_vec()),
            Layers::One(a) => {
                let mut v = vec![a.clone()];
                v.extend(add.iter().cloned());
                *self = Layers::Many(v);
            }
            Layers::Many(v) => v.extend(add.iter().cloned()),
        }
    }

    /// The merged configuration for a listing: server-level settings are the base as they
    /// are, a section's are merged over the defaults, and the result is merged once more with
    /// an empty section (Apache merges every matching section, `<Directory />` at least,
    /// which applies inherited `+`/`-` options).
    pub fn resolve(&self) -> AutoindexConfig {
        let layers: &[Arc<AutoindexConfig>] = match self {
            Layers::None => &[],
            Layers::One(a) => std::slice::from_ref(a),
            Layers::Many(v) => v,
        };
        let mut iter = layers.iter();
        let mut cfg = match iter.next() {
            Some(first) if first.server_level => (**first).clone(),
            Some(first) => merge(&AutoindexConfig::default(), first),
            None => AutoindexConfig::default(),
        };
        for l in iter {
            cfg = merge(&cfg, l);
        }
        merge(&cfg, &AutoindexConfig::default())
    }
}

/// `merge_autoindex_configs(base, add)`.
pub fn merge(base: &AutoindexConfig, add: &AutoindexConfig) -> AutoindexConfig {
    let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
    let append = |a: &[Item], b: &[Item]| -> Vec<Item> { a.iter().chain(b).cloned().collect() };
    let mut new = AutoindexConfig {
        default_icon: pick(&add.default_icon, &base.default_icon),
        style_sheet: pick(&add.style_sheet, &base.style_sheet),
        head_insert: pick(&add.head_insert, &base.head_insert),
        header: pick(&add.header, &base.header),
        readme: pick(&add.readme, &base.readme),
        icon_height: if add.icon_height != 0 {
            add.icon_height
        } else {
            base.icon_height
        },
        icon_width: if add.icon_width != 0 {
            add.icon_width
        } else {
            base.icon_width
        },
        ctype: pick(&add.ctype, &base.ctype),
        charset: pick(&add.charset, &base.charset),
        datetime_format: pick(&add.datetime_format, &base.datetime_format),
        alts: append(&add.alts, &base.alts),
        descs: add.descs.iter().chain(&base.descs).cloned().collect(),
        icons: append(&add.icons, &base.icons),
        ignores: if add.ignore_reset {
            add.ignores.clone()
        } else {
            append(&add.ignores, &base.ignores)
        },
        // apr_pcalloc: zero unless set below.
        opts: 0,
        incremented: 0,
        decremented: 0,
        ignore_reset: false,
        server_level: false,
        ..AutoindexConfig::default()
    };
    if add.opts == NO_OPTIONS {
        // An explicit `IndexOptions None` also clears the increments below it.
        new.opts = NO_OPTIONS;
    } else {
        if add.opts == OPTION_UNSET {
            // Only incremental settings here: inherit and adjust.
            new.incremented = (base.incremented | add.incremented) & !add.decremented;
            new.decremented = base.decremented | add.decremented;
            new.opts = base.opts & !NO_OPTIONS;
        } else {
            // Plain keywords here: they are the new base.
            new.opts = add.opts;
        }
        new.opts |= new.incremented;
        new.opts &= !new.decremented;
    }
    (new.name_width, new.name_adjust) = if add.name_adjust == Adjust::Unset {
        (base.name_width, base.name_adjust)
    } else {
        (add.name_width, add.name_adjust)
    };
    (new.desc_width, new.desc_adjust) = if add.desc_adjust == Adjust::Unset {
        (base.desc_width, base.desc_adjust)
    } else {
        (add.desc_width, add.desc_adjust)
    };
    new.default_key = add.default_key.or(base.default_key);
    new.default_direction = add.default_direction.or(base.default_direction);
    new
}

#[cfg(test)]
mod tests {
    use super::super::config::tests::opts;
    use super::*;

    #[test]
    fn index_options_plain_replace_incremental_adjust() {
        // Apache ORs plain keywords into OPTION_UNSET: the bit stays, and means nothing.
        let bits = |c: &AutoindexConfig| c.opts & !OPTION_UNSET;
        let server = AutoindexConfig {
            server_level: true,
            ..opts(&["FancyIndexing", "VersionSort", "HTMLTable"])
        };
        // +/- over the inherited plain list.
        let m = merge(&server, &opts(&["+SuppressSize", "-HTMLTable"]));
        assert_eq!(bits(&m), FANCY_INDEXING | VERSION_SORT | SUPPRESS_SIZE);
        // A plain keyword replaces everything inherited.
        let m2 = merge(&m, &opts(&["FoldersFirst"]));
        assert_eq!(bits(&m2), FOLDERS_FIRST);
        // The increments travel down through sections with their own increments.
        let m3 = merge(&m, &opts(&["+IgnoreCase"]));
        assert_eq!(
            bits(&m3),
            FANCY_INDEXING | VERSION_SORT | SUPPRESS_SIZE | IGNORE_CASE
        );
        // None clears all.
        assert_eq!(merge(&m3, &opts(&["None"])).opts, NO_OPTIONS);
        // Apache drops a section's own +/- words when it also has a plain keyword.
        assert_eq!(
            bits(&merge(&server, &opts(&["FancyIndexing", "+FoldersFirst"]))),
            FANCY_INDEXING
        );
        // A plain keyword after +/- words forgets them (Charset= counts as one).
        assert_eq!(opts(&["+TrackModified", "Charset=UTF-8"]).incremented, 0);
    }

    #[test]
    fn lists_deeper_first_and_ignore_reset() {
        let mut base = AutoindexConfig::default();
        base.add_ignore("*~", "");
        base.add_icon(By::Path, "/i/a.gif", ".txt", "").unwrap();
        let mut add = AutoindexConfig::default();
        add.add_ignore("*.bak", "/www/");
        add.add_icon(By::Type, "(TXT,/i/t.gif)", "text/*", "/www/")
            .unwrap();
        let m = merge(&base, &add);
        assert_eq!(m.icons[0].data, "/i/t.gif");
        assert_eq!(m.icons[0].apply_path, "/www/*");
        assert_eq!(m.icons[1].apply_to, "*.txt");
        assert_eq!(m.alts[0].data, "TXT");
        assert_eq!(m.ignores.len(), 2);
        add.ignore_reset = true;
        assert_eq!(merge(&base, &add).ignores.len(), 1);
    }
}
