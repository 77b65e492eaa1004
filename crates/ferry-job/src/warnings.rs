//! Warnings every job gives about the SAS tokens it was handed, before it starts.

use ferry_core::Location;

use crate::spec::Role;
use crate::{JobContext, JobEvent};

/// The words of the warning given before a server-side copy forwards a source SAS that can do
/// more than read: a server-side copy hands the source URL, SAS included, to the destination's
/// service (`x-ms-copy-source`), as AzCopy does, so such a SAS hands over more than the copy
/// needs.
pub(crate) fn forwarded_sas(source: &Location, destination: &Location) -> Option<String> {
    let (Location::Blob(source), Location::Blob(destination)) = (source, destination) else { return None };
    let permissions = source.sas()?.permissions().unwrap_or_default();
    let beyond_read = permissions.chars().any(|c| c != 'r' && c != 'l');
    beyond_read.then(|| {
        format!(
            "the source SAS (permissions `{permissions}`) is sent to the destination's service ({}) with each server-side copy; a read-only source SAS (sp=r or rl) is enough and hands over less",
            destination.service_url().host_str().unwrap_or_default()
        )
    })
}

/// Warns about each SAS among `locations` that has expired or expires within the hour, and about
/// a source SAS that a server-side copy would forward with more than read permission.
pub(crate) fn warn_about_sas(locations: &[(&Location, Role)], ctx: &JobContext) {
    if let [(source, Role::Source), (destination, Role::Destination)] = locations
        && let Some(warning) = forwarded_sas(source, destination)
    {
        ctx.events.event(&JobEvent::Warning(&warning));
    }
    for &(location, role) in locations {
        if let Some(warning) =
            location.as_blob().and_then(|b| b.sas()).and_then(|sas| sas_expiry_warning(sas, role.as_str()))
        {
            ctx.events.event(&JobEvent::Warning(&warning));
        }
    }
}

/// A warning when a SAS has expired or expires within the hour (its `se=` field): the job would
/// fail part-way, and every item after the expiry would need a resume with a fresh SAS.
fn sas_expiry_warning(sas: &ferry_core::SasToken, which: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let text = sas.expiry()?;
    let expiry = time::OffsetDateTime::parse(&text, &Rfc3339).ok()?;
    let left = expiry - time::OffsetDateTime::now_utc();
    if left.is_negative() {
        Some(format!(
            "the {which} SAS expired at {text}; every request with it will be refused. Get a fresh SAS, or resume later with --{which}-sas"
        ))
    } else if left < time::Duration::hours(1) {
        Some(format!(
            "the {which} SAS expires at {text}, in {} minutes; a long job will fail part-way (resume it then with a fresh --{which}-sas)",
            left.whole_minutes()
        ))
    } else {
        None
    }
}

/// When each SAS among `locations` expires (those a command renews are left out: they do not run
/// out), for [`outlived`] to check while the job runs.
pub(crate) fn sas_expiries(locations: &[(&Location, Role)], ctx: &JobContext) -> Vec<(Role, time::OffsetDateTime)> {
    use time::format_description::well_known::Rfc3339;
    locations
        .iter()
        .filter(|(_, role)| ctx.secrets.sas_command(*role).is_none())
        .filter_map(|(location, role)| {
            let se = location.as_blob()?.sas()?.expiry()?;
            Some((*role, time::OffsetDateTime::parse(&se, &Rfc3339).ok()?))
        })
        .collect()
}

/// A warning, with the numbers, when at the rate so far the job will still be running when the
/// `role`'s SAS expires at `expiry`: `done` of `total` bytes moved in `elapsed`.
pub(crate) fn outlived(
    role: Role,
    expiry: time::OffsetDateTime,
    now: time::OffsetDateTime,
    (done, total): (u64, u64),
    elapsed: std::time::Duration,
) -> Option<String> {
    if done == 0 || total <= done || elapsed.is_zero() {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = done as f64 / elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let needed = (total - done) as f64 / rate;
    let left = (expiry - now).as_seconds_f64();
    (needed > left).then(|| {
        let which = role.as_str();
        format!(
            "the {which} SAS expires at {expiry} (in {:.0} min), but at the rate so far ({:.1} MB/s, {done} of {total} bytes moved) the job needs about {:.0} min more: it will fail part-way. Give --{which}-sas-command to renew the SAS, or resume with a fresh --{which}-sas",
            (left / 60.0).max(0.0),
            rate / 1e6,
            needed / 60.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::LocationHint;

    fn sas_expiring_in(seconds: i64) -> ferry_core::SasToken {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
        let se = ferry_azure::sas_time(at).replace(':', "%3A");
        ferry_core::SasToken::parse(&format!("sv=2022-11-02&se={se}&sp=rl&sig=abc")).unwrap()
    }

    #[test]
    fn expired_and_expiring_sas_tokens_are_warned_about() {
        let expired = sas_expiry_warning(&sas_expiring_in(-60), "source").unwrap();
        assert!(expired.contains("source SAS expired"), "{expired}");
        let soon = sas_expiry_warning(&sas_expiring_in(600), "destination").unwrap();
        assert!(soon.contains("destination SAS expires") && soon.contains("--destination-sas"), "{soon}");
        assert!(sas_expiry_warning(&sas_expiring_in(7200), "source").is_none());
    }

    #[test]
    fn a_sas_that_ends_before_the_job_is_warned_about_with_the_numbers() {
        let now = time::OffsetDateTime::now_utc();
        let soon = now + time::Duration::minutes(10);
        let elapsed = std::time::Duration::from_secs(60);
        // 1 GB of 100 GB in a minute: about 99 minutes more, past a SAS with 10 minutes left.
        let warning = outlived(Role::Destination, soon, now, (1_000_000_000, 100_000_000_000), elapsed).unwrap();
        assert!(warning.contains("in 10 min") && warning.contains("about 99 min more"), "{warning}");
        assert!(warning.contains("--destination-sas-command"), "{warning}");
        // Half done in a minute: a minute more fits.
        assert_eq!(outlived(Role::Source, soon, now, (50, 100), elapsed), None);
        assert_eq!(outlived(Role::Source, soon, now, (0, 100), elapsed), None, "no rate yet");
    }

    /// Finding 19: a full-permission source SAS went to the destination endpoint unremarked.
    #[test]
    fn a_source_sas_beyond_read_is_named_before_it_is_forwarded() {
        let parse = |s: &str| Location::parse(s, LocationHint::Infer).unwrap();
        let dest = parse("https://b.blob.core.windows.net/dst?sv=1&sp=cw&sig=y");
        let full = parse("https://a.blob.core.windows.net/src?sv=1&sp=racwdl&sig=x");
        let warning = forwarded_sas(&full, &dest).unwrap();
        assert!(warning.contains("racwdl") && warning.contains("b.blob.core.windows.net"), "{warning}");
        assert!(!warning.contains("sig=x"), "{warning}");
        let read_only = parse("https://a.blob.core.windows.net/src?sv=1&sp=rl&sig=x");
        assert_eq!(forwarded_sas(&read_only, &dest), None);
        assert_eq!(forwarded_sas(&full, &parse("/tmp/x")), None, "not a server-side copy");
    }
}
