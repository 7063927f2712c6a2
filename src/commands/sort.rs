//! SORT and SORT_RO: the elements of a list, set or sorted set, sorted
//! numerically or (ALPHA) as strings, by themselves or by weights found
//! through a BY pattern, with LIMIT, GET patterns and STORE, as Redis's
//! `sort.c` does it.
//!
//! Patterns name other keys: the first `*` is replaced by the element, and
//! `key->field` reads a hash field; `#` (GET only) is the element itself. A
//! BY pattern without `*` means "do not sort". These commands run with every
//! shard held (the table says so), since patterns may name any key.

use super::{parse_int, Ctx};
use crate::errors::{CommandError, CommandResult};
use crate::protocol::Args;
use crate::storage::{Contents, KeyView, Value};
use crate::util::c_numbers;
use crate::util::eq_ignore_case;
use std::cmp::Ordering;

/// A parsed SORT command line.
struct SortRequest<'a> {
    desc: bool,
    alpha: bool,
    limit_start: i64,
    limit_count: i64,
    by: Option<&'a [u8]>,
    /// BY names a pattern without `*`: keep the native order.
    dont_sort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse<'a>(args: Args<'a>, read_only: bool) -> Result<SortRequest<'a>, CommandError> {
    let mut request = SortRequest {
        desc: false,
        alpha: false,
        limit_start: 0,
        limit_count: -1,
        by: None,
        dont_sort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut i = 2;
    while i < args.len() {
        let arg = args.get(i);
        let left = args.len() - i - 1;
        if eq_ignore_case(arg, "asc") {
            request.desc = false;
        } else if eq_ignore_case(arg, "desc") {
            request.desc = true;
        } else if eq_ignore_case(arg, "alpha") {
            request.alpha = true;
        } else if eq_ignore_case(arg, "limit") && left >= 2 {
            request.limit_start = parse_int(&args[i + 1])?;
            request.limit_count = parse_int(&args[i + 2])?;
            i += 2;
        } else if !read_only && eq_ignore_case(arg, "store") && left >= 1 {
            request.store = Some(args.get(i + 1));
            i += 1;
        } else if eq_ignore_case(arg, "by") && left >= 1 {
            let pattern = args.get(i + 1);
            request.by = Some(pattern);
            request.dont_sort = !pattern.contains(&b'*');
            i += 1;
        } else if eq_ignore_case(arg, "get") && left >= 1 {
            request.gets.push(args.get(i + 1));
            i += 1;
        } else {
            return Err(CommandError::Syntax);
        }
        i += 1;
    }
    Ok(request)
}

/// What a pattern names for one element: the element itself (`#`), a
/// string key's value, a hash field's value, or nothing.
fn lookup_by_pattern(keys: &mut KeyView, pattern: &[u8], element: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(element.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(arrow) if arrow + 2 < after.len() => (&after[..arrow], Some(&after[arrow + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    let entry = keys.get_read(&key)?;
    match (entry.contents(), field) {
        (Contents::Str(bytes), None) => Some(bytes.to_vec()),
        (Contents::Hash(hash), Some(field)) => hash.get(field).map(|v| v.to_vec()),
        _ => None,
    }
}

/// C's strcoll in the C locale: bytes compared up to the first NUL.
fn collate(a: &[u8], b: &[u8]) -> Ordering {
    let end = |s: &[u8]| s.iter().position(|&c| c == 0).unwrap_or(s.len());
    a[..end(a)].cmp(&b[..end(b)])
}

/// One element being sorted, with what it sorts by.
struct Item {
    element: Vec<u8>,
    score: f64,
    weight: Option<Vec<u8>>,
}

impl Item {
    fn new(element: Vec<u8>) -> Self {
        Item {
            element,
            score: 0.0,
            weight: None,
        }
    }
}

/// The element list of the sorted key, and whether its order is native
/// (lists and sorted sets) for the no-sort case.
fn load(value: Option<Contents<'_>>) -> Result<(Vec<Vec<u8>>, bool), CommandError> {
    match value {
        None => Ok((Vec::new(), true)),
        Some(Contents::List(list)) => Ok((list.iter().map(|e| e.to_vec()).collect(), true)),
        Some(Contents::Set(set)) => Ok((set.iter().map(|m| m.into_owned()).collect(), false)),
        Some(Contents::SortedSet(zset)) => {
            Ok((zset.iter().map(|(m, _)| m.to_vec()).collect(), true))
        }
        Some(_) => Err(CommandError::WrongType),
    }
}

fn sort_generic(ctx: &mut Ctx, args: Args, read_only: bool) -> CommandResult {
    let mut request = parse(args, read_only)?;
    let (mut elements, native_order) = {
        let contents = ctx.keys.lookup_entry(&args[1]).map(|e| e.contents());
        load(contents)?
    };
    let is_set = matches!(
        ctx.keys.peek(&args[1]).map(|e| e.contents()),
        Some(Contents::Set(_))
    );
    // A set has no order of its own: a stored result, or one a script
    // sees, must not depend on hashing, so Redis sorts it alphabetically.
    if request.dont_sort && is_set && (request.store.is_some() || ctx.client.in_script) {
        request.dont_sort = false;
        request.alpha = true;
        request.by = None;
    }
    let len = elements.len() as i64;
    let mut start = request.limit_start.max(0).min(len);
    let count = request.limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let elements = if request.dont_sort && native_order {
        if request.desc {
            elements.reverse();
        }
        let taken: Vec<Vec<u8>> = if end >= start {
            elements.drain(start as usize..=end as usize).collect()
        } else {
            Vec::new()
        };
        end -= start;
        start = 0;
        taken
    } else {
        elements
    };
    let mut items: Vec<Item> = elements.into_iter().map(Item::new).collect();
    if !request.dont_sort {
        weigh_and_sort(ctx, &request, &mut items)?;
    }
    let picked: &[Item] = if end >= start {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    let output_len = if request.gets.is_empty() {
        picked.len()
    } else {
        picked.len() * request.gets.len()
    };
    match request.store {
        None => {
            ctx.reply.array_len(output_len);
            for item in picked {
                if request.gets.is_empty() {
                    ctx.reply.bulk(&item.element);
                }
                for pattern in &request.gets {
                    match lookup_by_pattern(&mut ctx.keys, pattern, &item.element) {
                        Some(value) => ctx.reply.bulk(&value),
                        None => ctx.reply.null(),
                    }
                }
            }
        }
        Some(destination) => {
            let mut list = crate::storage::List::new();
            for item in picked {
                if request.gets.is_empty() {
                    list.push_back(item.element.as_slice().into());
                }
                for pattern in &request.gets {
                    let value = lookup_by_pattern(&mut ctx.keys, pattern, &item.element)
                        .unwrap_or_default();
                    list.push_back(value.into());
                }
            }
            // SORT answers after storing (and notifying), unlike most STOREs.
            super::store_result(
                ctx,
                destination,
                Value::List(Box::new(list)),
                (crate::storage::class::LIST, "sortstore"),
                false,
            );
        }
    }
    Ok(())
}

/// Reads each item's weight (its BY value, or itself) and sorts, with
/// Redis's comparison rules.
fn weigh_and_sort(ctx: &mut Ctx, request: &SortRequest, items: &mut [Item]) -> CommandResult {
    let mut bad_weight = false;
    for item in items.iter_mut() {
        let weight = match request.by {
            Some(pattern) => match lookup_by_pattern(&mut ctx.keys, pattern, &item.element) {
                Some(value) => value,
                None => continue,
            },
            None => item.element.clone(),
        };
        if request.alpha {
            if request.by.is_some() {
                item.weight = Some(weight);
            }
        } else {
            match c_numbers::sort_weight(&weight) {
                Some(score) => item.score = score,
                None => bad_weight = true,
            }
        }
    }
    if bad_weight {
        return Err(CommandError::err(
            "One or more scores can't be converted into double",
        ));
    }
    let storing = request.store.is_some();
    let by = request.by.is_some();
    items.sort_by(|a, b| {
        let order = if !request.alpha {
            a.score
                .partial_cmp(&b.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.element.cmp(&b.element))
        } else if by {
            match (&a.weight, &b.weight) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) if storing => x.cmp(y),
                (Some(x), Some(y)) => collate(x, y),
            }
        } else if storing {
            a.element.cmp(&b.element)
        } else {
            collate(&a.element, &b.element)
        };
        if request.desc {
            order.reverse()
        } else {
            order
        }
    });
    Ok(())
}

pub fn sort(ctx: &mut Ctx, args: Args) -> CommandResult {
    sort_generic(ctx, args, false)
}

pub fn sort_ro(ctx: &mut Ctx, args: Args) -> CommandResult {
    sort_generic(ctx, args, true)
}
