using System.Text.Json;

namespace LearnerVault.Xapi;

public static partial class StatementValidator
{
    private enum AgentRole
    {
        Actor,
        Object,
        Authority,
        Instructor,
        Team,
        Member,
        ContextAgent,
        ContextGroup,
        Parameter,
    }

    private const string OneIfi = " must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account)";
    private const string AtMostOneIfi = " must not have more than one inverse functional identifier";

    private static string? ValidateAgentOrGroup(JsonElement a, AgentRole role)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement objectType = default, name = default, member = default;
        var seen = 0;
        var ifis = 0;
        string? ifiError = null;
        foreach (var p in a.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("objectType"u8))
            {
                bit = 1;
                objectType = p.Value;
            }
            else if (p.NameEquals("name"u8))
            {
                bit = 2;
                name = p.Value;
            }
            else if (p.NameEquals("mbox"u8))
            {
                bit = 4;
                ifis++;
                ifiError ??= StringIs(p.Value, XapiFormats.IsMailtoIri) ? null : ".mbox must be a mailto IRI";
            }
            else if (p.NameEquals("mbox_sha1sum"u8))
            {
                bit = 8;
                ifis++;
                ifiError ??= StringIs(p.Value, XapiFormats.IsSha1Hex) ? null : ".mbox_sha1sum must be 40 hexadecimal characters";
            }
            else if (p.NameEquals("openid"u8))
            {
                bit = 16;
                ifis++;
                ifiError ??= StringIs(p.Value, XapiFormats.IsIri) ? null : ".openid" + NotIri;
            }
            else if (p.NameEquals("account"u8))
            {
                bit = 32;
                ifis++;
                ifiError ??= At("account", ValidateAccount(p.Value));
            }
            else if (p.NameEquals("member"u8))
            {
                bit = 64;
                member = p.Value;
            }
            else
            {
                return NotAllowed(p);
            }

            if ((seen & bit) != 0)
            {
                return At(p, Duplicate);
            }

            seen |= bit;
        }

        bool isGroup;
        if (objectType.ValueKind == JsonValueKind.Undefined)
        {
            isGroup = false;
        }
        else if (Is(objectType, "Agent"u8))
        {
            isGroup = false;
        }
        else if (Is(objectType, "Group"u8))
        {
            isGroup = true;
        }
        else
        {
            return objectType.ValueKind == JsonValueKind.String ? ".objectType must be Agent or Group" : ".objectType" + NotString;
        }

        switch (role)
        {
            case AgentRole.Member when isGroup:
                return " must be an Agent (a Group cannot be a member of a Group)";
            case AgentRole.ContextAgent when isGroup:
                return " must be an Agent";
            case AgentRole.Team or AgentRole.ContextGroup when !isGroup:
                return ".objectType must be Group";
            default:
                break;
        }

        if (name.ValueKind != JsonValueKind.Undefined && name.ValueKind != JsonValueKind.String)
        {
            return ".name" + NotString;
        }

        if (ifiError is not null)
        {
            return ifiError;
        }

        if (!isGroup)
        {
            if (member.ValueKind != JsonValueKind.Undefined)
            {
                return ".member is only allowed on a Group";
            }

            return ifis == 1 ? null : ifis == 0 ? OneIfi : AtMostOneIfi;
        }

        if (ifis > 1)
        {
            return AtMostOneIfi;
        }

        if (role == AgentRole.Parameter && ifis == 0)
        {
            return " must be an Agent or an identified Group";
        }

        if (role == AgentRole.Authority)
        {
            // OAuth authority: an anonymous Group of exactly two Agents (the application and the user).
            if (ifis != 0)
            {
                return " must be an Agent or an anonymous Group of two Agents";
            }

            if (member.ValueKind != JsonValueKind.Array || member.GetArrayLength() != 2)
            {
                return ".member must list exactly two Agents";
            }
        }

        if (member.ValueKind == JsonValueKind.Undefined)
        {
            return ifis == 0 ? ".member is required for an anonymous Group" : null;
        }

        if (member.ValueKind != JsonValueKind.Array)
        {
            return ".member must be an array of Agents";
        }

        if (ifis == 0 && member.GetArrayLength() == 0)
        {
            return ".member must list at least one Agent in an anonymous Group";
        }

        var index = 0;
        foreach (var m in member.EnumerateArray())
        {
            if (At(index, ValidateAgentOrGroup(m, AgentRole.Member)) is { } error)
            {
                return ".member" + error;
            }

            index++;
        }

        return null;
    }

    private static string? ValidateAccount(JsonElement account)
    {
        if (account.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement homePage = default, name = default;
        var seen = 0;
        foreach (var p in account.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("homePage"u8))
            {
                bit = 1;
                homePage = p.Value;
            }
            else if (p.NameEquals("name"u8))
            {
                bit = 2;
                name = p.Value;
            }
            else
            {
                return NotAllowed(p);
            }

            if ((seen & bit) != 0)
            {
                return At(p, Duplicate);
            }

            seen |= bit;
        }

        if (homePage.ValueKind == JsonValueKind.Undefined)
        {
            return ".homePage is required";
        }

        if (!StringIs(homePage, XapiFormats.IsIri))
        {
            return ".homePage must be an absolute IRL";
        }

        if (name.ValueKind == JsonValueKind.Undefined)
        {
            return ".name is required";
        }

        return name.ValueKind == JsonValueKind.String ? null : ".name" + NotString;
    }
}
