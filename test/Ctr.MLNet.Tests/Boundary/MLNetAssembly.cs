using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Ctr.MLNet.Tests.Boundary;

/// <summary>The metadata of one real ML.NET assembly, where our references are resolved to their definitions.</summary>
internal sealed class MLNetAssembly : IDisposable
{
    private readonly PEReader _pe;
    private readonly Dictionary<string, TypeDefinitionHandle> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AssemblyReferenceHandle> _forwarded = new(StringComparer.Ordinal);

    public MLNetAssembly(string name, string path)
    {
        Name = name;
        _pe = new PEReader(File.OpenRead(path));
        Reader = _pe.GetMetadataReader();
        foreach (TypeDefinitionHandle handle in Reader.TypeDefinitions)
            _types[SignatureTypes.Name(Reader, handle)] = handle;
        foreach (ExportedTypeHandle handle in Reader.ExportedTypes)
        {
            ExportedType exported = Reader.GetExportedType(handle);
            if (exported.Implementation.Kind == HandleKind.AssemblyReference)
            {
                string typeName = Reader.GetString(exported.Name);
                _forwarded[exported.Namespace.IsNil ? typeName : Reader.GetString(exported.Namespace) + "." + typeName] = (AssemblyReferenceHandle)exported.Implementation;
            }
        }
    }

    public string Name { get; }

    public MetadataReader Reader { get; }

    public string TypeName(TypeDefinitionHandle handle) => SignatureTypes.Name(Reader, handle).Replace('/', '.');

    /// <summary>The definition of <paramref name="fullName"/> (nested types after '/'), following type forwarders into other ML.NET assemblies.</summary>
    public (MLNetAssembly Target, TypeDefinitionHandle Definition)? FindType(string fullName, MLNetInternalUses scanner, out bool outsideMLNet)
    {
        outsideMLNet = false;
        if (_types.TryGetValue(fullName, out TypeDefinitionHandle handle))
            return (this, handle);
        string outer = fullName.Split('/')[0];
        if (_forwarded.TryGetValue(outer, out AssemblyReferenceHandle reference))
        {
            MLNetAssembly? target = scanner.FindAssembly(Reader.GetString(Reader.GetAssemblyReference(reference).Name));
            outsideMLNet = target is null;
            return target?.FindType(fullName, scanner, out outsideMLNet);
        }
        return null;
    }

    public (MLNetAssembly Target, TypeDefinitionHandle Definition)? FindNested(TypeDefinitionHandle outer, string name)
    {
        foreach (TypeDefinitionHandle nested in Reader.GetTypeDefinition(outer).GetNestedTypes())
        {
            if (Reader.GetString(Reader.GetTypeDefinition(nested).Name) == name)
                return (this, nested);
        }
        return null;
    }

    /// <summary>
    /// The method called <paramref name="name"/> with signature text <paramref name="signature"/> on the type or its
    /// bases. When no signature matches (a base reached through a generic instantiation spells its parameters as
    /// !0, !1), the only method of that name and parameter count is taken.
    /// </summary>
    public (MLNetAssembly Owner, MethodDefinitionHandle Method)? FindMethod(TypeDefinitionHandle type, string name, string signature, int parameterCount, MLNetInternalUses scanner)
    {
        for (var (owner, current) = (this, type); ;)
        {
            MetadataReader md = owner.Reader;
            var candidates = md.GetTypeDefinition(current).GetMethods()
                .Where(m => md.GetString(md.GetMethodDefinition(m).Name) == name).ToList();
            foreach (MethodDefinitionHandle m in candidates)
            {
                if (SignatureTypes.Signature(md, md.GetMethodDefinition(m).Signature).Text == signature)
                    return (owner, m);
            }
            var sameArity = candidates.Where(m => SignatureTypes.ParameterCount(md, md.GetMethodDefinition(m).Signature) == parameterCount).ToList();
            if (sameArity.Count == 1)
                return (owner, sameArity[0]);
            if (owner.BaseOf(current, scanner) is not var (nextOwner, next))
                return null;
            (owner, current) = (nextOwner, next);
        }
    }

    public (MLNetAssembly Owner, FieldDefinitionHandle Field)? FindField(TypeDefinitionHandle type, string name, MLNetInternalUses scanner)
    {
        for (var (owner, current) = (this, type); ;)
        {
            MetadataReader md = owner.Reader;
            foreach (FieldDefinitionHandle f in md.GetTypeDefinition(current).GetFields())
            {
                if (md.GetString(md.GetFieldDefinition(f).Name) == name)
                    return (owner, f);
            }
            if (owner.BaseOf(current, scanner) is not var (nextOwner, next))
                return null;
            (owner, current) = (nextOwner, next);
        }
    }

    private (MLNetAssembly, TypeDefinitionHandle)? BaseOf(TypeDefinitionHandle type, MLNetInternalUses scanner)
    {
        EntityHandle baseType = Reader.GetTypeDefinition(type).BaseType;
        if (baseType.Kind == HandleKind.TypeSpecification)
            baseType = SignatureTypes.TypeSpecification(Reader, Reader.GetTypeSpecification((TypeSpecificationHandle)baseType).Signature).Head;
        return baseType.Kind switch
        {
            HandleKind.TypeDefinition => (this, (TypeDefinitionHandle)baseType),
            HandleKind.TypeReference => scanner.ResolveType(Reader, (TypeReferenceHandle)baseType),
            _ => null,
        };
    }

    public void Dispose() => _pe.Dispose();
}
