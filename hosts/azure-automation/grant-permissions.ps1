<#
.SYNOPSIS
    Grants the Microsoft Graph application permissions of the runbook
    rjgit-user_security_create-temporary-access-pass to a managed identity, usually the
    Automation account's.

.DESCRIPTION
    Assigns the app roles listed in runbook.json to the identity's service principal. Roles it
    already holds are skipped, so the script can be run again. The optional roles are assigned
    only with -IncludeOptional. Needs the Microsoft.Graph.Applications module and a sign-in that
    may grant application permissions for Microsoft Graph (for example a Privileged Role
    Administrator); it asks for the delegated scopes AppRoleAssignment.ReadWrite.All and
    Application.Read.All.

    Required:
    - UserAuthenticationMethod.ReadWrite.All: List, delete and create the user's Temporary
      Access Pass authentication methods.
    - User.Read.All: Look up the user (object id, UPN, mail, user type, preferred language,
      usage location).

    Optional (-IncludeOptional):
    - Mail.Send: Send the notification email from EmailFrom when NotifyUser is set. Scope it to
      the sender mailbox with an Exchange application access policy.
    - Policy.Read.AuthenticationMethod: Read the Temporary Access Pass policy to refuse a pass
      the policy would reject before the user's existing pass is deleted. Without it the job
      continues and Graph enforces the policy on creation.
    - MailboxSettings.Read: Read the time zone of the user's mailbox settings, so the
      notification shows its times in the user's local time (with UTC beside them). Without it the
      main time zone of the user's usage location is used, or UTC for a country with several time
      zones.

.PARAMETER ManagedIdentity
    The managed identity's object (principal) id, or its display name: a system-assigned
    identity is named like its Automation account.

.PARAMETER IncludeOptional
    Also grant the optional permissions.

.EXAMPLE
    ./grant-permissions.ps1 -ManagedIdentity contoso-automation -IncludeOptional
#>

#Requires -Modules Microsoft.Graph.Applications

param(
    [Parameter(Mandatory = $true)]
    [string] $ManagedIdentity,
    [switch] $IncludeOptional
)

$ErrorActionPreference = 'Stop'
$graphAppId = '00000003-0000-0000-c000-000000000000'
$required = @(
    'UserAuthenticationMethod.ReadWrite.All'
    'User.Read.All'
)
$optional = @(
    'Mail.Send'
    'Policy.Read.AuthenticationMethod'
    'MailboxSettings.Read'
)

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
