//! Granting the manifest's Graph app roles to the Automation account's managed identity:
//! `grant-permissions.ps1` (Microsoft Graph PowerShell) and the README's `az rest` commands.

use std::fmt::Write as _;

use super::{GRAPH_APP_ID, help_lines, permission_names, ps_quote, wrap};
use crate::manifest::Manifest;

/// Renders `grant-permissions.ps1`.
pub fn render(m: &Manifest) -> String {
    let mut out = String::from("<#\n.SYNOPSIS\n");
    out.push_str(&help_lines(&wrap(&format!(
        "Grants the Microsoft Graph application permissions of the runbook {} to a managed \
         identity, usually the Automation account's.",
        m.name
    ))));
    out.push_str("\n.DESCRIPTION\n");
    out.push_str(&help_lines(&wrap(
        "Assigns the app roles listed in runbook.json to the identity's service principal. Roles \
         it already holds are skipped, so the script can be run again. The optional roles are \
         assigned only with -IncludeOptional. Needs the Microsoft.Graph.Applications module and \
         a sign-in that may grant application permissions for Microsoft Graph (for example a \
         Privileged Role Administrator); it asks for the delegated scopes \
         AppRoleAssignment.ReadWrite.All and Application.Read.All.",
    )));
    for (heading, required) in [("Required", true), ("Optional (-IncludeOptional)", false)] {
        let _ = writeln!(out, "\n    {heading}:");
        for p in m
            .permissions
            .application
            .iter()
            .filter(|p| p.required == required)
        {
            let text = wrap(&format!("- {}: {}", p.name, p.reason));
            for (i, line) in text.lines().enumerate() {
                let indent = if i == 0 { "    " } else { "      " };
                let _ = writeln!(out, "{indent}{line}");
            }
        }
    }
    out.push_str(
        "\n.PARAMETER ManagedIdentity\n    The managed identity's object (principal) id, or its \
         display name: a system-assigned\n    identity is named like its Automation account.\n\
         \n.PARAMETER IncludeOptional\n    Also grant the optional permissions.\n\
         \n.EXAMPLE\n    ./grant-permissions.ps1 -ManagedIdentity contoso-automation -IncludeOptional\n\
         #>\n\n#Requires -Modules Microsoft.Graph.Applications\n\n\
         param(\n    [Parameter(Mandatory = $true)]\n    [string] $ManagedIdentity,\n    \
         [switch] $IncludeOptional\n)\n\n$ErrorActionPreference = 'Stop'\n",
    );
    let _ = writeln!(out, "$graphAppId = {}", ps_quote(GRAPH_APP_ID));
    for (variable, required) in [("required", true), ("optional", false)] {
        let _ = writeln!(out, "${variable} = @(");
        for name in permission_names(m, required) {
            let _ = writeln!(out, "    {}", ps_quote(name));
        }
        out.push_str(")\n");
    }
    out.push_str(BODY);
    out
}

const BODY: &str = r#"
Connect-MgGraph -Scopes 'AppRoleAssignment.ReadWrite.All', 'Application.Read.All' -NoWelcome

$graph = Get-MgServicePrincipal -Filter ('appId eq ''{0}''' -f $graphAppId)
if (-not $graph) {
    throw 'The Microsoft Graph service principal was not found in this tenant'
}

if ($ManagedIdentity -match '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$') {
    $identity = Get-MgServicePrincipal -ServicePrincipalId $ManagedIdentity
}
else {
    $filter = 'displayName eq ''{0}''' -f $ManagedIdentity.Replace('''', '''''')
    $found = @(Get-MgServicePrincipal -All -Filter $filter |
            Where-Object { $_.ServicePrincipalType -eq 'ManagedIdentity' })
    if ($found.Count -ne 1) {
        throw ('{0} managed identities are named {1}; pass its object id instead' -f $found.Count, $ManagedIdentity)
    }
    $identity = $found[0]
}
Write-Output ('Granting to {0} ({1})' -f $identity.DisplayName, $identity.Id)

$assigned = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $identity.Id -All |
        Where-Object { $_.ResourceId -eq $graph.Id } |
        ForEach-Object { $_.AppRoleId })

$roles = $required
if ($IncludeOptional) {
    $roles += $optional
}
foreach ($name in $roles) {
    $role = $graph.AppRoles |
        Where-Object { $_.Value -eq $name -and $_.AllowedMemberTypes -contains 'Application' }
    if (-not $role) {
        throw ('Microsoft Graph has no application permission {0}' -f $name)
    }
    if ($assigned -contains $role.Id) {
        Write-Output ('{0}: already granted' -f $name)
        continue
    }
    $assignment = @{
        principalId = $identity.Id
        resourceId  = $graph.Id
        appRoleId   = $role.Id
    }
    New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $identity.Id -BodyParameter $assignment | Out-Null
    Write-Output ('{0}: granted' -f $name)
}
if (-not $IncludeOptional) {
    foreach ($name in $optional) {
        Write-Output ('{0}: optional, not granted (run again with -IncludeOptional to grant it)' -f $name)
    }
}
"#;

/// The README's `az rest` commands that grant the same roles, generated from the manifest.
pub fn az_rest_markdown(m: &Manifest) -> String {
    let mut out = String::from(
        "With the Azure CLI, signed in (`az login`) as an administrator who may grant application\n\
         permissions, the same assignments:\n\n```sh\n\
         MI='<object id>'   # the managed identity's Object (principal) ID, under Identity in the Automation account\n",
    );
    let _ = writeln!(
        out,
        "GRAPH=$(az ad sp show --id {GRAPH_APP_ID} --query id -o tsv)\ngrant() {{\n  \
         role=$(az ad sp show --id {GRAPH_APP_ID} \\\n    \
         --query \"appRoles[?value=='$1' && contains(allowedMemberTypes, 'Application')].id\" -o tsv)\n  \
         az rest --method POST \\\n    \
         --uri \"https://graph.microsoft.com/v1.0/servicePrincipals/$MI/appRoleAssignments\" \\\n    \
         --headers Content-Type=application/json \\\n    \
         --body \"{{\\\"principalId\\\":\\\"$MI\\\",\\\"resourceId\\\":\\\"$GRAPH\\\",\\\"appRoleId\\\":\\\"$role\\\"}}\"\n}}"
    );
    for (heading, required) in [("required", true), ("optional", false)] {
        let _ = writeln!(out, "# {heading}");
        for p in m
            .permissions
            .application
            .iter()
            .filter(|p| p.required == required)
        {
            let _ = writeln!(out, "grant {}", p.name);
        }
    }
    out.push_str(
        "# what the identity holds now\n\
         az rest --method GET --uri \"https://graph.microsoft.com/v1.0/servicePrincipals/$MI/appRoleAssignments\" \\\n  \
         --query \"value[].appRoleId\" -o tsv\n```\n\n\
         A role the identity already holds answers 400 (\"Permission being assigned already exists\n\
         on the object\"); nothing changes, and the other commands still run.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_role_is_granted_and_optional_ones_only_on_request() {
        let m = Manifest::get();
        let script = render(m);
        let optional_list = script.find("$optional = @(").unwrap();
        for p in &m.permissions.application {
            let listed = script.find(&format!("    '{}'\n", p.name)).unwrap();
            assert_eq!(listed > optional_list, !p.required, "{}", p.name);
        }
        assert!(script.contains("if ($IncludeOptional) {\n    $roles += $optional"));
        let az = az_rest_markdown(m);
        for p in &m.permissions.application {
            assert!(az.contains(&format!("grant {}\n", p.name)), "{}", p.name);
        }
    }
}
