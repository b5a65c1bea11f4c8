namespace Stratus.Identity.Ldap.Tests.Support;

/// <summary>The test directory: three people in two groups.</summary>
public static class Tree
{
    public static readonly string People = $"""
        dn: {SlapdServer.UserDn("alice")}
        objectClass: inetOrgPerson
        uid: alice
        cn: Alice Liddell
        givenName: Alice
        sn: Liddell
        mail: alice@mail.example.test

        dn: {SlapdServer.UserDn("bob")}
        objectClass: inetOrgPerson
        uid: bob
        cn: Bob Builder
        givenName: Bob
        sn: Builder
        mail: bob@mail.example.test

        dn: {SlapdServer.UserDn("carol")}
        objectClass: inetOrgPerson
        uid: carol
        cn: Carol Danvers
        givenName: Carol
        sn: Danvers
        mail: carol@mail.example.test

        dn: {SlapdServer.GroupDn("engineering")}
        objectClass: groupOfNames
        cn: engineering
        member: {SlapdServer.UserDn("alice")}
        member: {SlapdServer.UserDn("bob")}

        dn: {SlapdServer.GroupDn("sales")}
        objectClass: groupOfNames
        cn: sales
        member: {SlapdServer.UserDn("carol")}
        """;
}
