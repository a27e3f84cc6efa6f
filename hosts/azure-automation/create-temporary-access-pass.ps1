<#
.SYNOPSIS
    Create Temporary Access Pass
.DESCRIPTION
    Creates a Temporary Access Pass (TAP) for a user in Microsoft Entra ID, replacing the user's
    existing pass, and optionally tells the user by email that a pass was created (the email
    never contains the pass).

    This runbook starts tap-runbook on the Hybrid Runbook Worker and writes what it reports to
    the Output, Verbose, Warning and Error streams, then the result record as an object. A job
    that fails or is stopped ends with an error "<code>: <message>". The binary is the one named
    by the environment variable TAP_RUNBOOK_EXE, else by the Automation variable TapRunbookPath,
    else %ProgramFiles%\tap-runbook\tap-runbook.exe on Windows and /opt/tap-runbook/tap-runbook
    on Linux. The tenant's customization is the file named by TAP_RUNBOOK_CUSTOMIZATION, else
    the text of the Automation variable TapRunbookCustomization. Generated from runbook.json,
    version 1.0.0.

.PARAMETER UserName
    The user's user principal name (local@domain) or object id. Filled in by the job host from
    the user the runbook runs for.

.PARAMETER LifetimeInMinutes
    How long the pass stays valid after its start, 60 to 480 minutes. The tenant's Temporary
    Access Pass policy may narrow this range.

.PARAMETER OneTimeUseOnly
    Whether the pass works for a single sign-in. The tenant policy may force one-time use.

.PARAMETER StartDateTime
    When the pass becomes usable, as RFC 3339 with an offset (2026-11-29T09:00:00+01:00). Empty
    means now. Not more than 5 minutes in the past.

.PARAMETER NotifyUser
    Send the user an email saying that a pass was created for their account. The email never
    contains the pass. Requires EmailFrom.

.PARAMETER LanguageOverride
    Language of the notification email. Empty chooses from the user's preferred language, then
    usage location, then English.

.PARAMETER EmailFrom
    Mailbox the notification is sent from. Required when NotifyUser is set.

.PARAMETER ServiceDeskDisplayName
    Name of the Service Desk shown in the email.

.PARAMETER ServiceDeskEmail
    Service Desk email address, shown as a mailto link.

.PARAMETER ServiceDeskPhone
    Service Desk phone number, shown as a tel link.

.PARAMETER ServiceDeskPortalUrl
    https link to the Service Desk portal.

.PARAMETER ServiceDeskTicketUrl
    https link where the user can open a Service Desk ticket.

.PARAMETER BrandingHeaderImageUrl
    https URL of a PNG, JPEG or GIF (at most 200 KB) shown at the top of the email.

.PARAMETER BrandingFooterImageUrl
    https URL of a PNG, JPEG or GIF (at most 200 KB) shown at the bottom of the email.

.PARAMETER BrandingFooterLink
    https link behind the footer image.

.PARAMETER BrandingAccentColor
    Accent colour of the email as #RRGGBB. An invalid value gives a warning and the default
    colour.

.PARAMETER BrandingTextColor
    Text colour of the email as #RRGGBB. An invalid value gives a warning and the default
    colour.

.PARAMETER CallerName
    The operator who started the job, recorded for the audit trail.

.PARAMETER DryRun
    Rehearse: do every read and check, report what would be removed and created, change nothing
    and send nothing (tap-runbook --what-if).

.NOTES
    Microsoft Graph application permissions needed:
    - UserAuthenticationMethod.ReadWrite.All
    - User.Read.All
    Optional:
    - Mail.Send
    - Policy.Read.AuthenticationMethod
    - MailboxSettings.Read

.INPUTS
RunbookCustomization: {
    "Parameters": {
        "UserName": {
            "Hide": true
        },
        "StartDateTime": {
            "Hide": true
        },
        "NotifyUser": {
            "Hide": true
        },
        "LanguageOverride": {
            "Hide": true
        },
        "EmailFrom": {
            "Hide": true
        },
        "ServiceDeskDisplayName": {
            "Hide": true
        },
        "ServiceDeskEmail": {
            "Hide": true
        },
        "ServiceDeskPhone": {
            "Hide": true
        },
        "ServiceDeskPortalUrl": {
            "Hide": true
        },
        "ServiceDeskTicketUrl": {
            "Hide": true
        },
        "BrandingHeaderImageUrl": {
            "Hide": true
        },
        "BrandingFooterImageUrl": {
            "Hide": true
        },
        "BrandingFooterLink": {
            "Hide": true
        },
        "BrandingAccentColor": {
            "Hide": true
        },
        "BrandingTextColor": {
            "Hide": true
        },
        "CallerName": {
            "Hide": true
        }
    }
}
#>

#Requires -Version 7.2

param(
    [Parameter(Mandatory = $true)]
    [string] $UserName,
    [int] $LifetimeInMinutes = 240,
    [bool] $OneTimeUseOnly = $true,
    [string] $StartDateTime = '',
    [bool] $NotifyUser = $false,
    [string] $LanguageOverride = '',
    [string] $EmailFrom = '',
    [string] $ServiceDeskDisplayName = '',
    [string] $ServiceDeskEmail = '',
    [string] $ServiceDeskPhone = '',
    [string] $ServiceDeskPortalUrl = '',
    [string] $ServiceDeskTicketUrl = '',
    [string] $BrandingHeaderImageUrl = '',
    [string] $BrandingFooterImageUrl = '',
    [string] $BrandingFooterLink = '',
    [string] $BrandingAccentColor = '',
    [string] $BrandingTextColor = '',
    [Parameter(Mandatory = $true)]
    [string] $CallerName,
    [bool] $DryRun = $false
)

# Only the parameters the caller gave are passed on: tap-runbook applies the manifest's
# defaults, the tenant's settings and the customization under them itself.
$parameterNames = @(
    'UserName'
    'LifetimeInMinutes'
    'OneTimeUseOnly'
    'StartDateTime'
    'NotifyUser'
    'LanguageOverride'
    'EmailFrom'
    'ServiceDeskDisplayName'
    'ServiceDeskEmail'
    'ServiceDeskPhone'
    'ServiceDeskPortalUrl'
    'ServiceDeskTicketUrl'
    'BrandingHeaderImageUrl'
    'BrandingFooterImageUrl'
    'BrandingFooterLink'
    'BrandingAccentColor'
    'BrandingTextColor'
    'CallerName'
)

$invocation = [ordered]@{
    runbook    = 'rjgit-user_security_create-temporary-access-pass'
    parameters = [ordered]@{}
}
foreach ($name in $parameterNames) {
    if ($PSBoundParameters.ContainsKey($name)) {
        $invocation.parameters[$name] = $PSBoundParameters[$name]
    }
}
$metadata = Get-Variable -Name 'PSPrivateMetadata' -ValueOnly -ErrorAction SilentlyContinue
if ($metadata -and $metadata.JobId) {
    $invocation.jobId = [string] $metadata.JobId
}

# An Automation variable, or nothing when it or the command does not exist (outside Automation).
function Get-AutomationSetting([string] $Name) {
    if (-not (Get-Command -Name 'Get-AutomationVariable' -ErrorAction SilentlyContinue)) {
        return $null
    }
    try {
        return Get-AutomationVariable -Name $Name -ErrorAction Stop
    }
    catch {
        Write-Verbose ('Automation variable {0} not read: {1}' -f $Name, $_.Exception.Message)
        return $null
    }
}

$exe = $env:TAP_RUNBOOK_EXE
if (-not $exe) {
    $exe = Get-AutomationSetting 'TapRunbookPath'
}
if (-not $exe) {
    if ($IsWindows) {
        $exe = Join-Path $env:ProgramFiles 'tap-runbook' 'tap-runbook.exe'
    }
    else {
        $exe = '/opt/tap-runbook/tap-runbook'
    }
}
if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
    throw ('tap-runbook was not found at {0}: install it there, or name its path in the Automation variable TapRunbookPath' -f $exe)
}

$arguments = @('run', '--invocation', '-', '--format', 'ndjson')
if ($DryRun) {
    $arguments += '--what-if'
}
$customizationFile = $null
if ($env:TAP_RUNBOOK_CUSTOMIZATION) {
    $arguments += @('--customization', $env:TAP_RUNBOOK_CUSTOMIZATION)
}
else {
    $customization = Get-AutomationSetting 'TapRunbookCustomization'
    if ($customization) {
        $customizationFile = New-TemporaryFile
        [System.IO.File]::WriteAllText($customizationFile.FullName, [string] $customization)
        $arguments += @('--customization', $customizationFile.FullName)
    }
}

# tap-runbook writes UTF-8 whatever the worker's code page; the invocation goes in as ASCII.
$utf8 = [System.Text.UTF8Encoding]::new($false)
$OutputEncoding = $utf8
try {
    [Console]::OutputEncoding = $utf8
}
catch {
    Write-Verbose ('Console encoding left as it is: {0}' -f $_.Exception.Message)
}
$invocationJson = ConvertTo-Json -InputObject $invocation -Compress -EscapeHandling EscapeNonAscii

# Each record is written the moment it arrives, so the pass reaches Output even if the job
# is ended before the binary exits.
$result = $null
try {
    $invocationJson | & $exe @arguments | ForEach-Object {
        $record = ConvertFrom-Json -InputObject $_
        if ($record.type -eq 'result') {
            $result = $record
        }
        else {
            switch ($record.stream) {
                'Output' { Write-Output $record.message }
                'Verbose' { Write-Verbose $record.message }
                'Warning' { Write-Warning $record.message }
                'Error' { Write-Error -Message $record.message -ErrorAction Continue }
            }
        }
    }
    $exitCode = $LASTEXITCODE
}
finally {
    if ($customizationFile) {
        Remove-Item -LiteralPath $customizationFile.FullName -Force -ErrorAction SilentlyContinue
    }
}

if (-not $result) {
    throw ('tap-runbook ended with exit code {0} and wrote no result record' -f $exitCode)
}
Write-Output $result
if ($result.status -ne 'Completed') {
    if ($result.error) {
        throw ('{0}: {1}' -f $result.error.code, $result.error.message)
    }
    throw ('{0}: the job was stopped before it finished; the result above holds what was done' -f $result.status)
}
