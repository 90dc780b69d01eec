using System.Security.Cryptography;

namespace LearnerVault.Privacy.Tests;

public sealed class KeyWrappingTests
{
    private static readonly Guid Tenant = Guid.NewGuid();

    [Fact]
    public void Unwrap_SamePlace_ReturnsTheKey()
    {
        var kek = KeyWrapping.NewKey();
        var key = KeyWrapping.NewKey();
        var learner = RandomNumberGenerator.GetBytes(32);

        var wrapped = KeyWrapping.Wrap(kek, key, Tenant, 7, KeyPurpose.LearnerData, learner);

        Assert.NotEqual(key, wrapped);
        Assert.Equal(key, KeyWrapping.Unwrap(kek, wrapped, Tenant, 7, KeyPurpose.LearnerData, learner));
    }

    public static TheoryData<Guid, long, KeyPurpose, bool> OtherPlaces() => new()
    {
        { Guid.NewGuid(), 7, KeyPurpose.LearnerData, false },
        { Tenant, 8, KeyPurpose.LearnerData, false },
        { Tenant, 7, KeyPurpose.TenantData, false },
        { Tenant, 7, KeyPurpose.LearnerData, true },
    };

    [Theory]
    [MemberData(nameof(OtherPlaces))]
    public void Unwrap_OtherTenantIdPurposeOrLearner_Fails(Guid tenant, long id, KeyPurpose purpose, bool otherLearner)
    {
        var kek = KeyWrapping.NewKey();
        var learner = RandomNumberGenerator.GetBytes(32);
        var wrapped = KeyWrapping.Wrap(kek, KeyWrapping.NewKey(), Tenant, 7, KeyPurpose.LearnerData, learner);

        Assert.ThrowsAny<CryptographicException>(() =>
            KeyWrapping.Unwrap(kek, wrapped, tenant, id, purpose, otherLearner ? RandomNumberGenerator.GetBytes(32) : learner));
    }

    [Fact]
    public void MasterKeyCheck_VerifiesOnlyUnderItsOwnKey()
    {
        var master = MasterKey.FromBytes(KeyWrapping.NewKey());
        var sealedCheck = KeyWrapping.SealMasterKeyCheck(master);

        Assert.True(KeyWrapping.VerifyMasterKeyCheck(master, sealedCheck));
        Assert.False(KeyWrapping.VerifyMasterKeyCheck(MasterKey.FromBytes(KeyWrapping.NewKey()), sealedCheck));
    }
}
